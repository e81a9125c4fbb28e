"""The object store: total bytes and object count, by listing every object through the storage port.

Listing is the one way every backend (local folder, S3, R2, Supabase, GCS, Azure) answers the same;
it costs one LIST request per 1,000 objects, so a store of a million objects takes a while — give
the source a longer timeout there, or measure it less often.
"""

from __future__ import annotations

from collections.abc import Callable

from hashigo.ops.check.sources.base import Reading, Sample
from hashigo.settings import StorageSettings
from hashigo.storage import ObjectStore, open_object_store
from hashigo.urls import strip_credentials


class ObjectStoreSource:
    name = "storage"
    provides: tuple[str, ...] = ("storage_gb", "storage_objects")

    def __init__(self, settings: StorageSettings, *, timeout_seconds: float,
                 progress: Callable[[int], None] | None = None) -> None:
        self.settings = settings
        self.target = strip_credentials(settings.url) + (
            f" (endpoint {settings.endpoint_url})" if settings.endpoint_url else "")
        self.timeout = self.request_timeout = timeout_seconds
        self.progress = progress

    async def sample(self) -> Sample:
        store: ObjectStore = open_object_store(self.settings)
        try:
            count, total = 0, 0
            async for info in store.list(""):
                count += 1
                total += info.size
                if self.progress is not None and count % 1000 == 0:
                    self.progress(count)
        finally:
            await store.close()
        return Sample([Reading("storage_gb", total / 1e9, self.name, f"{total:,} bytes"),
                       Reading("storage_objects", float(count), self.name)],
                      {"bytes": total, "objects": count})

    async def close(self) -> None:
        return None
