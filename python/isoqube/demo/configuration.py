"""The build-server run definition: ingestion, download, parallel builds on
two pools, parallel deployments, release."""

from __future__ import annotations

from isoqube.model import Configuration, RetryPolicy, Step

NAME = "build-server"
DESCRIPTION = "Build server simulation: ingest, download, build on Linux and Windows, deploy"

LINUX_BUILDS = ("LinuxUbuntu2004Build", "LinuxUbuntu2204Build", "LinuxUbuntu2404Build")
WINDOWS_BUILDS = ("Windows2019Build", "Windows2022Build", "Windows2025Build")
DEPLOYMENTS = ("DeployToVm", "DeployToContainer")

# Each stage waits for the whole previous stage; the steps inside a stage run
# in parallel.
STAGES = (
    ("DefaultSourceIngestion",),
    ("DefaultSourceDownload",),
    ("DefaultSourceDownloadComplete",),
    LINUX_BUILDS,
    ("LinuxBuildCompleted",),
    WINDOWS_BUILDS,
    ("WindowsBuildCompleted",),
    DEPLOYMENTS,
    ("DeploymentCompleted",),
    ("BroadcastRelease",),
)


def build_server_configuration(retry: RetryPolicy | None = None) -> Configuration:
    """The configuration, with ``retry`` as every step's policy (default: a
    single attempt)."""
    steps = []
    previous: tuple = ()
    for stage in STAGES:
        for topic in stage:
            options = {} if retry is None else {"retry": retry}
            steps.append(Step(topic, after=list(previous), **options))
        previous = stage
    return Configuration(NAME, steps, description=DESCRIPTION)
