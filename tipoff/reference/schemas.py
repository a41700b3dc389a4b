"""JSON schemas of the reference feature: the public catalogue (GET /api/v1/catalog)."""
from __future__ import annotations

from marshmallow import Schema, fields


class CatalogItemSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable code, e.g. gas"})
    name = fields.String(required=True, metadata={"description": "Chinese name (中文名称)"})
    name_en = fields.String(allow_none=True, metadata={"description": "Short English name"})


class CatalogCategorySchema(CatalogItemSchema):
    description = fields.String(allow_none=True)


class CatalogSectorSchema(CatalogItemSchema):
    description = fields.String(allow_none=True)
    lead_department = fields.String(allow_none=True,
                                    metadata={"description": "Code of the lead department (牵头部门), or null"})


class CatalogTownshipSchema(CatalogItemSchema):
    kind = fields.String(required=True, metadata={"description": "街道, 镇, 乡, 民族乡 or 开发区"})
    department = fields.String(allow_none=True,
                               metadata={"description": "Code of the township government's department"})


class CatalogDepartmentSchema(CatalogItemSchema):
    kind = fields.String(required=True, metadata={"description": "bureau, committee_office or township"})


class CatalogSchema(Schema):
    categories = fields.List(fields.Nested(CatalogCategorySchema), required=True)
    sectors = fields.List(fields.Nested(CatalogSectorSchema), required=True)
    townships = fields.List(fields.Nested(CatalogTownshipSchema), required=True)
    departments = fields.List(fields.Nested(CatalogDepartmentSchema), required=True)
