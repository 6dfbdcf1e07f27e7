"""Web-vitals beacons from the front end (Next.js `useReportWebVitals`, posted by sendBeacon as
text/plain): validated, then written as one structured log line for Cloud Logging to chart."""

from __future__ import annotations

import logging
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

log = logging.getLogger("coderevai.web_vitals")

# What one sendBeacon carries (browsers queue at most 64 KiB): a CLS or LCP metric lists its
# performance entries, a layout shift's sources with their rectangles, and may pass 8 KB.
MAX_BEACON_BYTES = 64 * 1024
Millis = Annotated[float, Field(allow_inf_nan=False, ge=-3_600_000, le=3_600_000)]


class WebVital(BaseModel):
    """One metric as web-vitals reports it. Its other keys (`entries`, `attribution`) are ignored,
    so a newer web-vitals release that adds fields keeps being accepted."""

    model_config = ConfigDict(extra="ignore")

    # The Core Web Vitals, and Next.js's own timings (reported with label "custom").
    name: Annotated[str, StringConstraints(pattern=r"^(CLS|FCP|FID|INP|LCP|TTFB|Next\.js-[A-Za-z-]{1,40})$")]
    value: Annotated[Millis, Field(ge=0)]
    id: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")]
    delta: Millis | None = None
    rating: Literal["good", "needs-improvement", "poor"] | None = None
    navigationType: (
        Literal["navigate", "reload", "back-forward", "back-forward-cache", "prerender", "restore"] | None
    ) = None
    label: Literal["web-vital", "custom"] | None = None
    startTime: Annotated[Millis, Field(ge=0)] | None = None


def record(metric: WebVital, referer: str | None) -> None:
    fields = metric.model_dump(exclude_none=True)
    page = _page(referer)
    if page:
        fields["page"] = page
    log.info("web vital %s = %g", metric.name, metric.value, extra={"fields": {"webVital": fields}})


def _page(referer: str | None) -> str | None:
    """The page's path only: a query string or fragment may carry tokens."""
    if not referer:
        return None
    path = urlsplit(referer).path
    return path[:200] or "/"
