"""The deployment service: deploy the builds, then announce the release."""

from __future__ import annotations

import isoqube

from .simulate import simulate

SERVICE = "deployment"


@isoqube.topic("DeployToVm", description="Deploy to VM")
class DeployToVm:
    """Install the build on a virtual machine."""


@isoqube.topic("DeployToContainer", description="Deploy to container")
class DeployToContainer:
    """Publish the build as a container image."""


@isoqube.topic("DeploymentCompleted", description="Deployment completed")
class DeploymentCompleted:
    """Every deployment finished."""


@isoqube.topic("BroadcastRelease", description="Broadcast release")
class BroadcastRelease:
    """Tell the world about the release."""


@isoqube.consumer(DeployToVm, service=SERVICE, name="DeployToVmConsumer")
def deploy_to_vm(ctx):
    return simulate(ctx, SERVICE, target="vm")


@isoqube.consumer(DeployToContainer, service=SERVICE, name="DeployToContainerConsumer")
def deploy_to_container(ctx):
    return simulate(ctx, SERVICE, target="container")


@isoqube.consumer(DeploymentCompleted, service=SERVICE, name="DeploymentCompletedConsumer")
def deployment_completed(ctx):
    return simulate(ctx, SERVICE, deployments=sorted(ctx.inputs))


@isoqube.consumer(BroadcastRelease, service=SERVICE, name="BroadcastReleaseConsumer")
def broadcast_release(ctx):
    return simulate(ctx, SERVICE, channels=["mail", "chat"])
