"""Drives Confluent's Python client (confluent-kafka) against lienthong's registry and broker.

The jest suite in test/interop/ runs this with the path of a JSON plan in INTEROP_PLAN, and reads
one JSON object per line from stdout: {"step", "call", "ok", "result"} or, when the call raised,
{"step", "call", "ok": false, "status", "error_code", "message"}. Every client is built with its
default settings plus the registry URL and credentials and the broker's address: the point is to
show what an integrator who keeps the defaults gets.
"""

import datetime
import decimal
import json
import os
import sys
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.schema_registry import ConfigCompatibilityLevel, Schema, SchemaRegistryClient, ServerConfig
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
DEADLINE = time.monotonic() + float(os.environ.get("INTEROP_BUDGET_SECONDS", "90"))


def emit(step, call, **fields):
    print(json.dumps({"step": step, "call": call, **fields}, default=plain), flush=True)


def plain(value):
    """What fastavro's logical types decode to, back in the JSON the suite compares."""
    if isinstance(value, datetime.datetime):
        return (value - EPOCH) // datetime.timedelta(milliseconds=1)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot print {type(value).__name__}")


# The registry client every step uses; its caches are emptied before each step.
CLIENTS = []


def step(name, call, fn):
    """Runs one client call and reports its result, or the registry's status and error_code.

    The client remembers what it registered and looked up, and would answer a later call from
    memory: emptying its caches first makes every step a request that the registry answers."""
    for client in CLIENTS:
        client.clear_caches()
    try:
        result = fn()
    except SchemaRegistryError as err:
        emit(name, call, ok=False, status=err.http_status_code, error_code=err.error_code,
             message=err.error_message)
        return None
    except Exception as err:  # a client-side failure is a result too: report it, go on
        emit(name, call, ok=False, status=None, error_code=None, message=f"{type(err).__name__}: {err}")
        return None
    emit(name, call, ok=True, result=result)
    return result


def registered(rs):
    return {"id": rs.schema_id, "subject": rs.subject, "version": rs.version,
            "schema": rs.schema.schema_str if rs.schema else None}


def registry_calls(sr, plan):
    """Every registry route the client offers for Avro, on a subject of this run's own."""
    subject = plan["subject"]
    v1, v2, bad = (Schema(plan["schemas"][k], "AVRO") for k in ("v1", "v2", "incompatible"))
    id1 = step("register", "register_schema", lambda: sr.register_schema(subject, v1))
    step("get_subjects", "get_subjects", sr.get_subjects)
    step("get_versions", "get_versions", lambda: sr.get_versions(subject))
    step("get_schema", "get_schema", lambda: sr.get_schema(id1).schema_str)
    step("get_version", "get_version", lambda: registered(sr.get_version(subject, 1)))
    step("get_latest_version", "get_latest_version", lambda: registered(sr.get_latest_version(subject)))
    step("lookup_schema", "lookup_schema", lambda: registered(sr.lookup_schema(subject, v1)))
    step("test_compatibility", "test_compatibility", lambda: sr.test_compatibility(subject, v2))
    step("test_compatibility_all", "test_compatibility_all_versions",
         lambda: sr.test_compatibility_all_versions(subject, v2))
    step("test_incompatible", "test_compatibility", lambda: sr.test_compatibility(subject, bad, 1))
    step("register_evolved", "register_schema", lambda: sr.register_schema(subject, v2))
    step("get_versions_evolved", "get_versions", lambda: sr.get_versions(subject))
    step("register_incompatible", "register_schema", lambda: sr.register_schema(subject, bad))
    step("set_compatibility", "set_compatibility",
         lambda: sr.set_compatibility(subject_name=subject, level="FORWARD"))
    step("get_compatibility", "get_compatibility", lambda: sr.get_compatibility(subject))
    step("get_compatibility_global", "get_compatibility", lambda: sr.get_compatibility())
    step("get_config", "get_config", lambda: sr.get_config(subject).to_dict())
    # The client hands back the body of the PUT as it came.
    step("set_config", "set_config", lambda: sr.set_config(
        subject, ServerConfig(compatibility=ConfigCompatibilityLevel.FULL)))
    step("get_config_after_set", "get_config", lambda: sr.get_config(subject).to_dict())
    step("get_config_global", "get_config", lambda: sr.get_config().to_dict())
    step("delete_config", "delete_config", lambda: sr.delete_config(subject).to_dict())
    step("get_compatibility_after_delete", "get_compatibility", lambda: sr.get_compatibility(subject))
    step("get_schema_types", "get_schema_types", sr.get_schema_types)
    step("get_subjects_by_schema_id", "get_subjects_by_schema_id", lambda: sr.get_subjects_by_schema_id(id1))
    step("get_referenced_by", "get_referenced_by", lambda: sr.get_referenced_by(subject, 1))
    step("get_latest_with_metadata", "get_latest_with_metadata",
         lambda: registered(sr.get_latest_with_metadata(subject, {"owner": "HN-CUCTHUE"})))
    step("get_mode", "get_mode", lambda: sr.get_mode(subject))
    step("get_global_mode", "get_global_mode", sr.get_global_mode)
    step("get_contexts", "get_contexts", sr.get_contexts)
    step("get_schema_versions", "get_schema_versions",
         lambda: [{"subject": v.subject, "version": v.version} for v in sr.get_schema_versions(id1)])
    step("delete_version", "delete_version", lambda: sr.delete_version(subject, 2))
    step("get_versions_after_delete", "get_versions", lambda: sr.get_versions(subject))
    step("get_versions_deleted", "get_versions", lambda: sr.get_versions(subject, deleted=True))
    step("get_version_deleted", "get_version", lambda: registered(sr.get_version(subject, 2, deleted=True)))
    step("delete_version_permanent", "delete_version", lambda: sr.delete_version(subject, 2, permanent=True))
    step("get_versions_after_permanent", "get_versions", lambda: sr.get_versions(subject, deleted=True))
    step("delete_subject", "delete_subject", lambda: sr.delete_subject(subject))
    step("get_subjects_after_delete", "get_subjects", sr.get_subjects)
    step("get_subjects_deleted", "get_subjects", lambda: sr.get_subjects(deleted=True))
    step("get_latest_after_delete", "get_latest_version", lambda: registered(sr.get_latest_version(subject)))
    step("delete_subject_permanent", "delete_subject",
         lambda: sr.delete_subject(subject, permanent=True))
    step("get_subjects_after_permanent", "get_subjects", lambda: sr.get_subjects(deleted=True))


def refusals(sr, plan, url):
    """What the registry refuses: a read without a credential, a write to another agency's subject."""
    anonymous = SchemaRegistryClient({"url": url})
    step("get_subjects_anonymous", "get_subjects", anonymous.get_subjects)
    step("register_foreign", "register_schema",
         lambda: sr.register_schema(plan["foreignSubject"], Schema(plan["schemas"]["v1"], "AVRO")))


def key_order(sr, case):
    """For the Go driver, which sends the same schema with its keys in another order."""
    step("key_order_register", "register_schema",
         lambda: sr.register_schema(case["subject"], Schema(case["schema"], "AVRO")))


def to_fastavro(schema, value, named):
    """An event as lienthong's JSON writes it (avsc: a union of records as {fullName: record})
    into fastavro's datum: a union branch as (fullName, datum), so that no guessing picks it."""
    if isinstance(schema, str):
        return to_fastavro(named[schema], value, named) if schema in named else value
    if isinstance(schema, list):
        if value is None:
            return None
        if isinstance(value, dict) and len(value) == 1:
            (name, inner), = value.items()
            for branch in schema:
                full = branch if isinstance(branch, str) else branch.get("name")
                if full == name and full in named:
                    return (name, to_fastavro(named[name], inner, named))
        branches = [b for b in schema if b != "null"]
        return to_fastavro(branches[0], value, named) if len(branches) == 1 else value
    kind = schema["type"]
    if kind == "record":
        return {f["name"]: to_fastavro(f["type"], value.get(f["name"]), named) for f in schema["fields"]}
    if kind == "array":
        return [to_fastavro(schema["items"], v, named) for v in value]
    if kind == "map":
        return {k: to_fastavro(schema["values"], v, named) for k, v in value.items()}
    if schema.get("logicalType") == "decimal" and isinstance(value, str):
        return decimal.Decimal(value)  # lienthong writes a decimal as its decimal string
    return value


def named_types(schema, namespace, out):
    """The schema with every named type under its full name, collecting them into `out`."""
    if isinstance(schema, list):
        return [named_types(branch, namespace, out) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind in ("record", "enum", "fixed"):
        ns = schema.get("namespace", namespace)
        full = schema["name"] if "." in schema["name"] or not ns else f"{ns}.{schema['name']}"
        schema = {**schema, "name": full}
        if kind == "record":
            schema["fields"] = [{**f, "type": named_types(f["type"], ns, out)} for f in schema["fields"]]
        out[full] = schema
        return schema
    if kind == "array":
        return {**schema, "items": named_types(schema["items"], namespace, out)}
    if kind == "map":
        return {**schema, "values": named_types(schema["values"], namespace, out)}
    return schema


def produce(sr, plan, kafka):
    """Events serialized by the client's own AvroSerializer, one per serializer mode."""
    contract = json.loads(plan["schema"])
    named = {}
    root = named_types(contract, None, named)
    modes = {
        "auto-register": None,  # the default
        "lookup": {"auto.register.schemas": False},
        "use-latest-version": {"auto.register.schemas": False, "use.latest.version": True},
    }
    producer = Producer(kafka)
    ctx = SerializationContext(plan["topic"], MessageField.VALUE)
    for i, item in enumerate(plan["events"]):
        mode = item["mode"]
        serializer = AvroSerializer(sr, plan["schema"], conf=modes[mode])
        delivered = {}

        def send():
            value = serializer(to_fastavro(root, item["event"], named), ctx)
            producer.produce(plan["topic"], key=item["key"].encode(), value=value,
                             headers=[("traceparent", item["traceparent"].encode())],
                             on_delivery=lambda err, msg: delivered.update(
                                 error=str(err) if err else None,
                                 partition=msg.partition(), offset=msg.offset()))
            producer.flush(max(1.0, DEADLINE - time.monotonic()))
            if delivered.get("error") or "offset" not in delivered:
                raise RuntimeError(f"not delivered: {delivered}")
            return {"mode": mode, "schemaId": int.from_bytes(value[1:5], "big"), **delivered}

        step(f"produce_{i}", f"AvroSerializer[{mode}] + Producer.produce", send)


def consume(sr, plan, kafka):
    """Reads a connector's topic from the start and decodes with the client's AvroDeserializer."""
    deserializer = AvroDeserializer(sr)
    # group.id is required by the client even for assigned partitions; nothing is committed.
    consumer = Consumer({**kafka, "group.id": plan["group"]})

    def read():
        partitions = consumer.list_topics(plan["topic"], timeout=10).topics[plan["topic"]].partitions
        consumer.assign([TopicPartition(plan["topic"], p, OFFSET_BEGINNING) for p in partitions])
        out = []
        while len(out) < plan["count"] and time.monotonic() < DEADLINE:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                raise RuntimeError(str(msg.error()))
            value = deserializer(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE))
            out.append({"partition": msg.partition(), "offset": msg.offset(),
                        "schemaId": int.from_bytes(msg.value()[1:5], "big"), "value": value})
        return out

    try:
        step("consume", "Consumer.poll + AvroDeserializer", read)
    finally:
        consumer.close()


def main():
    with open(os.environ["INTEROP_PLAN"], encoding="utf-8") as f:
        plan = json.load(f)
    sr = SchemaRegistryClient({
        "url": plan["registry"]["url"],
        "basic.auth.user.info": f"{plan['registry']['user']}:{plan['registry']['key']}",
    })
    CLIENTS.append(sr)
    registry_calls(sr, plan["registryCalls"])
    refusals(sr, plan["registryCalls"], plan["registry"]["url"])
    key_order(sr, plan["keyOrder"])
    # The broker's address and its SASL_SSL settings; every other setting is the client's default.
    kafka = {"bootstrap.servers": plan["bootstrapServers"], **plan["kafkaConfig"]}
    produce(sr, plan["produce"], kafka)
    consume(sr, plan["consume"], kafka)
    emit("done", "exit", ok=True)


if __name__ == "__main__":
    sys.exit(main())
