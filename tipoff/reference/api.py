"""GET /api/v1/catalog — the public catalogue of categories, sectors, townships and departments."""
from __future__ import annotations

from tipoff.api import api_route, respond
from tipoff.reference import services
from tipoff.reference.schemas import CatalogSchema


@api_route("/catalog", summary="Categories, sectors, townships and departments in use (public)",
           tags=["reference"], auth=False, response_schema=CatalogSchema)
def catalog():
    """The active reference data a reporting form or a partner system needs, in display order."""
    return respond(CatalogSchema(), services.catalog())
