"""The Windows build pool: three images built in parallel, then a join."""

from __future__ import annotations

import isoqube

from .simulate import simulate

SERVICE = "windows-pool"


@isoqube.topic("Windows2019Build", description="Build Windows 2019")
class Windows2019Build:
    """Build on a Windows Server 2019 agent."""


@isoqube.topic("Windows2022Build", description="Build Windows 2022")
class Windows2022Build:
    """Build on a Windows Server 2022 agent."""


@isoqube.topic("Windows2025Build", description="Build Windows 2025")
class Windows2025Build:
    """Build on a Windows Server 2025 agent."""


@isoqube.topic("WindowsBuildCompleted", description="Windows build completed")
class WindowsBuildCompleted:
    """Every Windows build finished."""


@isoqube.consumer(Windows2019Build, service=SERVICE, name="Windows2019BuildConsumer")
def build_2019(ctx):
    return simulate(ctx, SERVICE, image="windows-2019")


@isoqube.consumer(Windows2022Build, service=SERVICE, name="Windows2022BuildConsumer")
def build_2022(ctx):
    return simulate(ctx, SERVICE, image="windows-2022")


@isoqube.consumer(Windows2025Build, service=SERVICE, name="Windows2025BuildConsumer")
def build_2025(ctx):
    return simulate(ctx, SERVICE, image="windows-2025")


@isoqube.consumer(WindowsBuildCompleted, service=SERVICE, name="WindowsBuildCompletedConsumer")
def builds_completed(ctx):
    return simulate(ctx, SERVICE, builds=sorted(ctx.inputs))
