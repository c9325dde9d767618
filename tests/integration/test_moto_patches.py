"""infra/local/moto_patches.py makes two moto hot paths cheap; what moto answers must not change."""
from __future__ import annotations

import json
import os
import time

import boto3
import jsonpath_ng.ext as jsonpath_ext
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sqs.models import sqs_backends

from infra.local import moto_patches
from infra.local.workers import REGION


def setup_module(_module):
    moto_patches.apply()


@mock_aws
def test_sqs_still_drops_messages_past_the_queue_retention_period():
    sqs = boto3.client("sqs", region_name=REGION)

    def received_after(age_s: float, name: str) -> list[str]:
        url = sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=name)
        queue = sqs_backends[DEFAULT_ACCOUNT_ID][REGION].get_queue(name)
        next(iter(queue._messages)).sent_timestamp = int((time.time() - age_s) * 1000)
        return [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]

    assert received_after(61, "expired") == []
    assert received_after(55, "retained") == ["retained"]


@mock_aws
def test_eventbridge_still_delivers_the_whole_default_event_to_a_queue_target():
    events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["stocklink"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])

    for n in range(3):   # the second and third events reuse the cached parsers
        events.put_events(Entries=[{"Source": "stocklink", "DetailType": "stock.changed",
                                    "Detail": json.dumps({"sku": f"SKU-{n}", "available": n})}])

    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert sorted(b["detail"]["sku"] for b in bodies) == ["SKU-0", "SKU-1", "SKU-2"]
    assert all(b["source"] == "stocklink" and b["detail-type"] == "stock.changed" and b["region"] == REGION
               and b["id"] and b["time"] for b in bodies)
    assert jsonpath_ext.parse.cache_info().hits > 0


@mock_aws
def test_sqs_clock_is_moto_s_own_clock_and_visibility_still_holds():
    import moto.sqs.models as sqs_models
    from moto.core.utils import unix_time

    assert abs(sqs_models.unix_time() - unix_time()) < 1.0          # the same epoch seconds, not datetimes
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="clock", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="once")
    assert len(sqs.receive_message(QueueUrl=url).get("Messages", [])) == 1
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []     # in flight: invisible
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]) == ("0", "1")


def test_the_server_still_finds_each_services_backend_from_the_module_list_read_once(monkeypatch):
    """The server's dispatcher reads moto's module list for every request; patched, it reads it once and
    still resolves every service StockLink calls (and refuses an unknown host as before)."""
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    listed = list(backends.list_of_moto_modules())
    dispatcher = DomainDispatcherApplication(create_backend_app)
    listings: list[str] = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: listings.append(path) or real_listdir(path))
    for service in ("events", "sqs", "sns", "secretsmanager", "ssm", "stepfunctions"):
        assert service in listed
        assert dispatcher.get_backend_for_host(service) == service
    assert dispatcher.get_backend_for_host("sqs.us-east-1.amazonaws.com") == "sqs"
    assert dispatcher.get_backend_for_host("no-such-service") is None
    assert listings == []                 # no request lists moto's package directory again
