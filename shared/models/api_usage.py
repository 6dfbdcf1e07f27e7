from datetime import datetime

import sqlalchemy as sa

from shared.models import TableModel, created_field, id_field, text


class ApiUsage(TableModel, table=True):
    __tablename__ = "ApiUsage"
    __table_args__ = (
        sa.Index("ApiUsage_userId_timestamp_idx", "userId", "timestamp"),
        sa.Index("ApiUsage_endpoint_timestamp_idx", "endpoint", "timestamp"),
    )

    id: str = id_field()
    userId: str = text()
    endpoint: str = text()
    timestamp: datetime = created_field()
    duration: int | None = None
    statusCode: int | None = None
    tokensUsed: int | None = None
