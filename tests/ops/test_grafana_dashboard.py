"""docs/grafana-dashboard.json: valid JSON whose every panel queries metrics that Darkroom serves."""

import inspect
import json
import re

import pytest
from django.test import Client
from dramatiq.middleware import prometheus as dramatiq_prometheus
from prometheus_client.parser import text_string_to_metric_families

from processing.engine.tasks import actor_for
from processing.jobs import services
from tests.factories import make_record
from tests.ops.test_metrics import scrape
from tests.support.clients import client_for
from vendors.services import vendor_set_paused

pytestmark = pytest.mark.django_db(transaction=True)

DASHBOARD = json.loads(open("docs/grafana-dashboard.json").read())
METRIC = re.compile(r"\b(?:darkroom|django_http|dramatiq)_[a-z_]+")


def queries() -> list[str]:
    exprs = [t["expr"] for p in DASHBOARD["panels"] if p["type"] != "row" for t in p["targets"]]
    return exprs + [v["query"]["query"] for v in DASHBOARD["templating"]["list"] if v["type"] == "query"]


def test_every_panel_has_a_query_and_the_four_concerns_have_rows():
    panels = [p for p in DASHBOARD["panels"] if p["type"] != "row"]
    assert panels and all(p["targets"] and all(t["expr"].strip() for t in p["targets"]) for p in panels)
    rows = {p["title"] for p in DASHBOARD["panels"] if p["type"] == "row"}
    assert {"Queues", "Throughput and vendors", "Latency", "Errors"} <= rows


def test_every_metric_the_dashboard_queries_is_served(vendor, owner, clean_redis):
    ok = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    actor_for("isolated")(str(ok.pk))
    vendor_set_paused(vendor=vendor, paused=True)
    flaky = services.job_create(
        vendor=vendor, kind="flaky", params={"key": "dash", "fail_times": 1}, record=make_record(vendor)
    )
    actor_for("flaky")(str(flaky.pk))
    client_for(owner).get("/api/v1/jobs/")
    scrape()  # the scrape's own request is counted by the next one
    text = Client().get("/metrics").content.decode()
    served = set()
    for family in text_string_to_metric_families(text):
        served.add(family.name)
        served.update(sample.name for sample in family.samples)
        if family.type == "counter":  # a family without samples yet still names its series
            served.add(f"{family.name}_total")
    dramatiq_source = inspect.getsource(dramatiq_prometheus)

    for name in {m for q in queries() for m in METRIC.findall(q)}:
        if name.startswith("dramatiq_"):  # served by workers with Dramatiq's middleware
            base = re.sub(r"_(total|bucket|sum|count)$", "", name)
            assert f'"{base}' in dramatiq_source, name
        else:
            assert name in served, f"{name} is queried but not served"
