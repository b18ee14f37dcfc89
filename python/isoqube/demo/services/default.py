"""The default service: source ingestion and download."""

from __future__ import annotations

import isoqube

from .simulate import simulate

SERVICE = "default"


@isoqube.topic("DefaultSourceIngestion", description="Default ingestion")
class DefaultSourceIngestion:
    """A new source revision arrived; the start of a build."""


@isoqube.topic("DefaultSourceDownload", description="Source download")
class DefaultSourceDownload:
    """Fetch the sources of the ingested revision."""


@isoqube.topic("DefaultSourceDownloadComplete", description="Source download completed")
class DefaultSourceDownloadComplete:
    """The sources are ready for the build pools."""


@isoqube.consumer(DefaultSourceIngestion, service=SERVICE, name="DefaultIngestionConsumer")
def ingest(ctx):
    return simulate(ctx, SERVICE, revision=ctx.ingestion_id)


@isoqube.consumer(DefaultSourceDownload, service=SERVICE, name="DefaultSourceDownloadConsumer")
def download(ctx):
    return simulate(ctx, SERVICE, files=128)


@isoqube.consumer(
    DefaultSourceDownloadComplete, service=SERVICE, name="DefaultSourceDownloadCompleteConsumer"
)
def download_complete(ctx):
    return simulate(ctx, SERVICE, ready=True)
