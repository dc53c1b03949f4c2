"""Validates ECS JSON request bodies against the ECS API model of the venv's botocore.

Reads a JSON list of [operation, body] pairs from the file named by argv[1]; prints one
report per invalid request and exits 1 when any is invalid. Used by
tests/common/mod.rs `assert_ecs_requests_valid`. The ECS protocol (awsJson1_1) puts each
member under its model name, so a request body is the operation's input parameters as
botocore's ParamValidator sees them (timestamps arrive as epoch numbers, which the
validator accepts).
"""

import json
import sys

import botocore.session
from botocore.validate import ParamValidator

model = botocore.session.get_session().get_service_model("ecs")
validator = ParamValidator()
bad = 0
with open(sys.argv[1]) as f:
    requests = json.load(f)
for operation, body in requests:
    try:
        op = model.operation_model(operation)
    except Exception:  # an operation the model does not have
        print(f"{operation}: not an operation of the ECS API model")
        bad += 1
        continue
    try:
        params = json.loads(body) if body.strip() else {}
    except ValueError as e:
        print(f"{operation}: body is not JSON ({e}): {body[:200]}")
        bad += 1
        continue
    report = validator.validate(params, op.input_shape)
    if report.has_errors():
        print(f"{operation}: {report.generate_report()}\n  request: {body[:2000]}")
        bad += 1
sys.exit(1 if bad else 0)
