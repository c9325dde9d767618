"""One emulated Lambda container: `python -m infra.local._worker <module.attr> <function_name>`.

Started by infra.local.workers with the function's environment. Imports the handler once (the cold
start), then handles one event at a time: a JSON request line on stdin, a JSON reply line on the
protocol pipe. The handler's own stdout/stderr go to stderr so prints and logs can never corrupt the
protocol.
"""
from __future__ import annotations

import time

_T0 = time.perf_counter()  # before any other import: the cold start includes the interpreter's share

import decimal  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402


class LambdaContext:
    """The attributes and method of the Lambda Python runtime's context that handlers use."""

    def __init__(self, info: dict, deadline: float):
        self.function_name = info["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = info["invoked_function_arn"]
        self.memory_limit_in_mb = int(info["memory_limit_in_mb"])
        self.aws_request_id = info["aws_request_id"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = info.get("log_stream_name", "local")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _json_default(value):
    # Same leniency as the Lambda runtime's serializer: Decimals (from DynamoDB) become numbers.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def main() -> None:
    target, function_name = sys.argv[1], sys.argv[2]
    # Keep the real stdout for replies; everything the handler prints goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", closefd=False)

    handler = None
    import_error = None
    try:
        module_name, attr = target.rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), attr)
    except BaseException:  # noqa: BLE001 - reported like Runtime.ImportModuleError, container stays up
        import_error = traceback.format_exc()
    import_ms = (time.perf_counter() - _T0) * 1000
    proto.write(json.dumps({"ready": import_error is None, "import_ms": round(import_ms, 1),
                            "error": import_error}) + "\n")

    # Opt-in: STOCKLINK_WORKER_PROFILE=<dir> writes a cProfile of this container's warm invocations (the first
    # one, which creates the SDK clients, is left out) when it stops
    profile_dir = os.environ.get("STOCKLINK_WORKER_PROFILE")
    profiler = None
    if profile_dir:
        import cProfile
        profiler = cProfile.Profile(time.process_time)   # CPU, not the wait on DynamoDB
    for served, line in enumerate(sys.stdin):
        if profiler is not None and served:
            profiler.enable()
        try:
            _serve(line, handler, import_error, proto)
        finally:
            if profiler is not None:
                profiler.disable()
    if profiler is not None:
        profiler.dump_stats(os.path.join(profile_dir, f"{function_name}-{os.getpid()}.prof"))


def _serve(line: str, handler, import_error, proto) -> None:
    if not line.strip():
        return
    request = json.loads(line)
    started = time.monotonic()
    deadline = started + float(request["context"]["timeout_s"])
    if import_error is not None:
        reply = {"ok": False, "error": "Runtime.ImportModuleError", "traceback": import_error}
    else:
        try:
            result = handler(request["event"], LambdaContext(request["context"], deadline))
            reply = {"ok": True, "result": json.loads(json.dumps(result, default=_json_default))}
        except BaseException as exc:  # noqa: BLE001 - the container survives, as in Lambda
            reply = {"ok": False, "error": type(exc).__name__, "traceback": traceback.format_exc()}
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                proto.write(json.dumps(reply) + "\n")
                raise
    reply["duration_ms"] = round((time.monotonic() - started) * 1000, 2)
    proto.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
