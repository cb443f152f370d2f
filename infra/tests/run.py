#!/usr/bin/env python3
"""Terraform tested for real, offline: `init` with the committed lock file, `validate`, then
`plan` and `apply` of the whole module against moto's server in both layouts (two buckets +
upload queue + API Gateway; one bucket + direct trigger + function URL), with checks on what
the plan contains and on what apply created.

Needs terraform (>= 1.11), the hashicorp/aws provider in a filesystem mirror (TF_PLUGIN_MIRROR,
default /opt/tf-plugins), moto (`pip install "moto[server]"`) and the AWS CLI (`pip install
awscli`). A missing one fails the test with what to install; nothing is skipped.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

INFRA = Path(__file__).resolve().parent.parent
MIRROR = Path(os.environ.get("TF_PLUGIN_MIRROR", "/opt/tf-plugins"))
SECRET_KEY = "plan-must-never-hold-this-key-7f3a"
SIGNING = "plan-must-never-hold-this-signing-key-91c2"
STACK = "thumbtest"
STACK_PATH = f"/{STACK}-stack/"
BOUNDARY = f"arn:aws:iam::123456789012:policy/{STACK}-stack-boundary"

LAYOUTS = {
    "two-buckets": {"single_bucket": False, "http_frontend": "api_gateway", "trigger": "queue",
                    "cors_origins": ["https://app.example.com"], "credentials_version": 1},
    "one-bucket": {"single_bucket": True, "http_frontend": "function_url", "trigger": "direct"},
}


class Failed(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failed(message)


def need_tools():
    missing = []
    if not shutil.which("terraform"):
        missing.append("terraform >= 1.11 on PATH (https://developer.hashicorp.com/terraform/install)")
    if not (MIRROR / "registry.terraform.io/hashicorp/aws").is_dir():
        missing.append(
            f"a filesystem mirror of hashicorp/aws at {MIRROR} (set TF_PLUGIN_MIRROR): on a machine "
            "with registry access, `terraform providers mirror -platform=linux_amd64 DIR` in infra/")
    if not shutil.which("moto_server"):
        missing.append('moto_server: pip install "moto[server]"')
    if not shutil.which("aws"):
        missing.append("the AWS CLI: pip install awscli")
    if not shutil.which("node"):
        missing.append("node (Node.js), for the CloudFront Function's unit test")
    if missing:
        sys.exit("infra/tests/run.py: missing:\n  " + "\n  ".join(missing))


def start_moto():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    log = tempfile.TemporaryFile()
    # AWS's managed policies (ReadOnlyAccess for the plan role) exist only when asked for.
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    log.seek(0)
    sys.exit("moto_server did not start:\n" + log.read().decode(errors="replace"))


def tf(cwd, env, *args, capture=False):
    cmd = ["terraform", *args]
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise Failed(f"terraform {' '.join(args)} failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}")
    return out.stdout if capture else None


def resources(module):
    """Every resource of a plan's planned values, children included."""
    for r in module.get("resources", []):
        yield r
    for child in module.get("child_modules", []):
        yield from resources(child)


def by_address(root_module):
    return {r["address"].removeprefix("module.thumbnail."): r for r in resources(root_module)}


def plan_checks(name, layout, plan):
    """What the plan creates, by address (values that depend on ARNs are unknown until apply;
    `state_checks` reads them from the applied state)."""
    res = by_address(plan["planned_values"]["root_module"])
    want = {
        "aws_sqs_queue.uploads[0]": layout["trigger"] == "queue",
        "aws_lambda_event_source_mapping.uploads[0]": layout["trigger"] == "queue",
        "aws_lambda_permission.s3[0]": layout["trigger"] == "direct",
        "terraform_data.function_url_invoke[0]": layout["http_frontend"] == "function_url",
        "aws_s3_bucket_cors_configuration.originals[0]": bool(layout.get("cors_origins")),
        "aws_secretsmanager_secret_version.credentials[0]": bool(layout.get("credentials_version")),
        "aws_iam_role.batch[0]": True,
    }
    for addr, present in want.items():
        check((addr in res) == present, f"{name}: {addr} {'missing from' if present else 'in'} the plan")
    # Finding 8: alarms.
    alarms = {r.split('"')[1] for r in res if r.startswith("aws_cloudwatch_metric_alarm.this[")}
    expected = {"errors", "throttles", "dead-letters"} | ({"queue-age"} if layout["trigger"] == "queue" else set()) \
        | ({"api-5xx"} if layout["http_frontend"] == "api_gateway" else set())
    check(alarms == expected, f"{name}: alarms {alarms} != {expected}")
    fn = res["aws_lambda_function.this"]["values"]
    check(fn.get("reserved_concurrent_executions") in reserved(layout), f"{name}: reserved {fn.get('reserved_concurrent_executions')}")
    return sum(1 for r in res.values() if r["mode"] == "managed")


def reserved(layout):
    """Issue 31, item 6: a function URL has no throttle of its own, so its function reserves
    (and is capped at) 10 instances by default; behind API Gateway (which throttles) none."""
    return (10,) if layout["http_frontend"] == "function_url" else (None, -1)


def cdn_checks(name, plan):
    """Issue 14: the distribution, its cache policy and the CloudFront Function, as planned
    (moto has neither cache policies nor CloudFront Functions, so this plan is not applied)."""
    res = by_address(plan["planned_values"]["root_module"])
    for addr in ("aws_cloudfront_distribution.this[0]", "aws_cloudfront_cache_policy.thumbnails[0]",
                 "aws_cloudfront_function.accept[0]"):
        check(addr in res, f"{name}: {addr} missing from the CDN plan")
    fn = res["aws_cloudfront_function.accept[0]"]["values"]
    check(fn["runtime"] == "cloudfront-js-2.0" and fn["publish"], f"{name}: function {fn['runtime']}")
    check(fn["code"] == (INFRA / "cdn/accept.js").read_text(), f"{name}: the function's code is not cdn/accept.js")
    key = res["aws_cloudfront_cache_policy.thumbnails[0]"]["values"]["parameters_in_cache_key_and_forwarded_to_origin"][0]
    headers = set(key["headers_config"][0]["headers"][0]["items"])
    check(headers == {"accept", "authorization"}, f"{name}: cache key headers {headers}")
    check(key["query_strings_config"][0]["query_string_behavior"] == "all", f"{name}: query strings")
    check(not key["enable_accept_encoding_gzip"] and not key["enable_accept_encoding_brotli"],
          f"{name}: compression in the cache key")
    dist = res["aws_cloudfront_distribution.this[0]"]["values"]
    (thumbs,) = dist["ordered_cache_behavior"]
    check(thumbs["path_pattern"] == "/thumbnails/*", f"{name}: {thumbs['path_pattern']}")
    check(not thumbs["compress"] and thumbs["viewer_protocol_policy"] == "https-only", f"{name}: thumbnails behavior")
    check([f["event_type"] for f in thumbs["function_association"]] == ["viewer-request"], f"{name}: function association")
    default = dist["default_cache_behavior"][0]
    check(default["cache_policy_id"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", f"{name}: uploads must not be cached")
    check("PUT" in default["allowed_methods"] and not default["compress"], f"{name}: default behavior")
    origin = dist["origin"][0]["custom_origin_config"][0]
    check(origin["origin_protocol_policy"] == "https-only", f"{name}: origin {origin}")
    # Issue 31, item 6: CloudFront proves itself to the origin with a secret header, which
    # the function requires (the same value, made once by Terraform, in its environment).
    headers = {h["name"] for h in dist["origin"][0].get("custom_header", [])}
    check(headers == {"X-Origin-Verify"}, f"{name}: origin headers {headers}")
    check("terraform_data.origin_secret[0]" in res, f"{name}: no origin secret")
    for addr in ("aws_lambda_function.this", "aws_cloudfront_distribution.this"):
        refs = json.dumps(configured(plan, addr))
        check("terraform_data.origin_secret[0].output" in refs, f"{name}: {addr} does not use the origin secret")
    check("cdn_url" in plan["output_changes"], f"{name}: no cdn_url output")


def tls_checks(name, stack, env, state, varfile, state_dir):
    """Issue 31, item 10: with the operator's certificate the distribution takes TLS 1.2 and
    later only (TLSv1.2_2021, SNI); with CloudFront's own *.cloudfront.net certificate AWS
    fixes the minimum at TLSv1, which the README says."""
    plans = {
        "default certificate": ([], "TLSv1"),
        "own certificate": (["-var=cdn_certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/thumbtest",
                             '-var=cdn_aliases=["img.example.com"]'], "TLSv1.2_2021"),
    }
    for what, (extra, minimum) in plans.items():
        out = state_dir / "tfplan-tls"
        tf(stack, env, "plan", "-input=false", f"-state={state}", f"-var-file={varfile}", "-var=cdn=true",
           *extra, f"-out={out}")
        res = by_address(json.loads(tf(stack, env, "show", "-json", str(out), capture=True))["planned_values"]["root_module"])
        cert = res["aws_cloudfront_distribution.this[0]"]["values"]["viewer_certificate"][0]
        check(cert["minimum_protocol_version"] == minimum, f"{name}, {what}: {cert}")
        if extra:
            check(cert["ssl_support_method"] == "sni-only" and not cert["cloudfront_default_certificate"],
                  f"{name}, {what}: {cert}")


def configured(plan, addr):
    """The module's configuration of the resource `addr` (its expressions and what they
    reference), for values that stay unknown until apply."""
    module = plan["configuration"]["root_module"]["module_calls"]["thumbnail"]["module"]
    (found,) = [r for r in module["resources"] if r["address"] == addr]
    return found


def state_checks(name, layout, state):
    res = {a: r for a, r in by_address(state["values"]["root_module"]).items() if r["mode"] == "managed"}
    values = lambda addr: res[addr]["values"]  # noqa: E731

    # Finding 7 and the role: no "*" resource except X-Ray's; ListBucket with no prefix
    # condition on the buckets only; deletes only under the thumbnails' prefix.
    policy = json.loads(values("aws_iam_role_policy.function")["policy"])
    for st in policy["Statement"]:
        resources_ = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if "*" in resources_:
            check(all(a.startswith("xray:") for a in actions), f"{name}: '*' resource for {actions}")
        if "s3:ListBucket" in actions:
            check("Condition" not in st, f"{name}: ListBucket is conditioned: {st}")
            check(all("/" not in r.split(":::")[1] for r in resources_), f"{name}: ListBucket on {resources_}")
        if "s3:DeleteObject" in actions:
            check(all(r.endswith("/thumbnails/*") for r in resources_), f"{name}: deletes on {resources_}")
        if "secretsmanager:GetSecretValue" in actions:
            check(len(resources_) == 1, f"{name}: secrets {resources_}")
    check(any("s3:DeleteObject" in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
              for st in policy["Statement"]), f"{name}: the function cannot delete stale sizes")

    # Finding 6: no reservation by default; the queue mode's queue and mapping.
    fn = values("aws_lambda_function.this")
    check(fn.get("reserved_concurrent_executions") in reserved(layout), f"{name}: reserved {fn.get('reserved_concurrent_executions')}")
    env = fn["environment"][0]["variables"]
    # Issue 31, item 6: without the CDN there is no origin secret to ask for.
    check(env.get("THUMBNAIL_ORIGIN_SECRET") == "", f"{name}: origin secret without a CDN")
    check("THUMBNAIL_API_KEYS" not in env and "THUMBNAIL_SIGNING_KEY" not in env, f"{name}: keys in env {env}")
    check("THUMBNAIL_CREDENTIALS_SECRET" in env, f"{name}: no secret ARN in env")
    note = values("aws_s3_bucket_notification.uploads")
    targets = note["queue"] if layout["trigger"] == "queue" else note["lambda_function"]
    check(len(targets) == 1 and targets[0]["filter_prefix"] == "uploads/", f"{name}: notification {note}")
    check(set(targets[0]["events"]) == {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}, f"{name}: events {targets[0]['events']}")
    other = note["lambda_function"] if layout["trigger"] == "queue" else note["queue"]
    check(not other, f"{name}: both notification kinds {note}")
    if layout["trigger"] == "queue":
        q = values("aws_sqs_queue.uploads[0]")
        check(q["visibility_timeout_seconds"] >= 6 * fn["timeout"], f"{name}: visibility {q['visibility_timeout_seconds']}")
        dlq = values("aws_sqs_queue.dead_letters")["arn"]
        check(json.loads(q["redrive_policy"])["deadLetterTargetArn"] == dlq, f"{name}: redrive {q['redrive_policy']}")
        check(json.loads(q["redrive_policy"])["maxReceiveCount"] == 5, f"{name}: redrive {q['redrive_policy']}")
        m = values("aws_lambda_event_source_mapping.uploads[0]")
        check(m["scaling_config"][0]["maximum_concurrency"] == 10, f"{name}: mapping {m['scaling_config']}")
        check(m["function_response_types"] == ["ReportBatchItemFailures"], f"{name}: {m['function_response_types']}")
        check("aws_lambda_permission.s3[0]" not in res, f"{name}: S3 may still invoke directly")
    else:
        check("aws_lambda_permission.s3[0]" in res, f"{name}: S3 may not invoke")

    # Finding 11.
    if layout.get("cors_origins"):
        cors = values("aws_s3_bucket_cors_configuration.originals[0]")["cors_rule"][0]
        check(cors["allowed_origins"] == layout["cors_origins"] and "POST" in cors["allowed_methods"] and "PUT" not in cors["allowed_methods"], f"{name}: cors {cors}")
        check(env["THUMBNAIL_CORS_ORIGINS"] == ",".join(layout["cors_origins"]), f"{name}: cors env")
    # Backfill: the job's role may invoke the function and nothing else of it.
    batch = json.loads(values("aws_iam_role_policy.batch[0]")["policy"])
    invoke = [st for st in batch["Statement"] if st["Action"] == "lambda:InvokeFunction"]
    check(len(invoke) == 1 and fn["arn"] in invoke[0]["Resource"], f"{name}: batch role {batch}")
    return len(res)


def no_secrets(name, where, data):
    for s in (SECRET_KEY, SIGNING):
        check(s.encode() not in data, f"{name}: a credential is in {where}")


def run_layout(name, layout, endpoint, work, base_env, boundary):
    stack = work / "infra/tests/moto"
    state_dir = work / f"state-{name}"
    env = dict(base_env)
    env["TF_DATA_DIR"] = str(state_dir / ".terraform")
    tfvars = {k: v for k, v in layout.items() if k != "credentials_version"}
    tfvars.update(endpoint=endpoint, lambda_zip=str(work / "bootstrap.zip"), role_path=STACK_PATH,
                  permissions_boundary=BOUNDARY)
    if layout.get("credentials_version"):
        tfvars["credentials_version"] = layout["credentials_version"]
        env["TF_VAR_api_keys"] = json.dumps([SECRET_KEY])
        env["TF_VAR_signing_key"] = SIGNING
    varfile = state_dir / "layout.tfvars.json"
    state_dir.mkdir()
    varfile.write_text(json.dumps(tfvars))
    state = state_dir / "terraform.tfstate"
    planfile = state_dir / "tfplan"
    # The lock file as committed: a provider that does not match it fails here.
    tf(stack, env, "init", "-backend=false", "-input=false", "-lockfile=readonly")
    tf(stack, env, "validate")
    cdn_plan = state_dir / "tfplan-cdn"
    tf(stack, env, "plan", "-input=false", f"-state={state}", f"-var-file={varfile}", "-var=cdn=true",
       f"-out={cdn_plan}")
    cdn_checks(name, json.loads(tf(stack, env, "show", "-json", str(cdn_plan), capture=True)))
    if layout["http_frontend"] == "api_gateway":
        tls_checks(name, stack, env, state, varfile, state_dir)
    tf(stack, env, "plan", "-input=false", f"-state={state}", f"-var-file={varfile}", f"-out={planfile}")
    with zipfile.ZipFile(planfile) as z:
        for member in z.namelist():
            no_secrets(name, f"tfplan:{member}", z.read(member))
    shown = tf(stack, env, "show", "-json", str(planfile), capture=True)
    no_secrets(name, "terraform show -json", shown.encode())
    planned = plan_checks(name, layout, json.loads(shown))
    tf(stack, env, "apply", "-input=false", f"-state={state}", str(planfile))
    no_secrets(name, "the state", state.read_bytes())
    # A second plan over the applied stack: nothing is created, replaced or destroyed.
    # (In-place updates remain: moto echoes some attributes back in another form, e.g. policy
    # JSON, the redrive policy's numbers, the function's KMS and logging settings.)
    again = state_dir / "tfplan-again"
    tf(stack, env, "plan", "-input=false", f"-state={state}", f"-var-file={varfile}", f"-out={again}")
    replan = json.loads(tf(stack, env, "show", "-json", str(again), capture=True))
    churn = [c["address"] for c in replan.get("resource_changes", [])
             if c["mode"] == "managed" and c["change"]["actions"] not in (["no-op"], ["update"])]
    check(not churn, f"{name}: a second plan would create, replace or destroy {churn}")
    # The values that depend on ARNs, unknown in the first plan, as applied.
    applied = json.loads(tf(stack, env, "show", "-json", str(state), capture=True))
    created = state_checks(name, layout, applied)
    within_boundary(name, applied, boundary)
    outputs = json.loads(tf(stack, env, "output", f"-state={state}", "-json", capture=True))
    after_apply(name, layout, endpoint, outputs)
    print(f"  {name}: {planned} resources planned, {created} created", flush=True)


def after_apply(name, layout, endpoint, outputs):
    import boto3

    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    sm = boto3.client("secretsmanager", **kw)
    arn = outputs["credentials_secret_arn"]["value"]
    if layout.get("credentials_version"):
        # Write-only: the value reached AWS though the plan and state never held it.
        value = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
        check(value == {"api_keys": [SECRET_KEY], "signing_key": SIGNING}, f"{name}: secret {value}")
    else:
        check(sm.describe_secret(SecretId=arn)["Name"] == "thumbtest-credentials", f"{name}: no secret")
    lam = boto3.client("lambda", **kw)
    fn = lam.get_function(FunctionName=outputs["function_name"]["value"])["Configuration"]
    check(fn["Environment"]["Variables"]["THUMBNAIL_CREDENTIALS_SECRET"] == arn, f"{name}: env {fn['Environment']}")
    if layout["http_frontend"] == "function_url":
        policy = json.loads(lam.get_policy(FunctionName=fn["FunctionName"])["Policy"])
        sids = {st["Sid"] for st in policy["Statement"]}
        check("FunctionURLInvokeAllowPublicAccess" in sids, f"{name}: function policy {sids}")
    s3 = boto3.client("s3", **kw)
    conf = s3.get_bucket_notification_configuration(Bucket=outputs["originals_bucket"]["value"])
    kind = "QueueConfigurations" if layout["trigger"] == "queue" else "LambdaFunctionConfigurations"
    check(len(conf.get(kind, [])) == 1, f"{name}: bucket notification {conf}")


ACCOUNT = "123456789012"  # moto's


def role_policies(iam, role):
    """The identity policies and the boundary of a role, as AWS (moto) holds them."""
    docs = [iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"]
            for n in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    for a in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        docs.append(managed_policy(iam, a["PolicyArn"]))
    got = iam.get_role(RoleName=role)["Role"].get("PermissionsBoundary")
    return docs, got and got["PermissionsBoundaryArn"]


def managed_policy(iam, arn):
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return json.loads(doc) if isinstance(doc, str) else doc


def deploy_roles(work, env, endpoint):
    """Issue 31, item 1: the deploy roles applied against moto, then what each may do, asked of
    the policies AWS holds as an attacker with that role would ask (iam_eval: moto has no
    simulate-principal-policy). Returns the stack boundary's document for the layouts."""
    import boto3
    from iam_eval import allowed

    root = work / "infra/deploy-roles"
    state = work / "deploy-roles.tfstate"
    e = dict(env, TF_DATA_DIR=str(root / ".terraform"), TF_VAR_repository="acme/thumbnail", TF_VAR_name=STACK,
             TF_VAR_state_bucket="acme-terraform-state", AWS_REGION="us-east-1")
    tf(root, e, "apply", "-input=false", "-auto-approve", f"-state={state}")
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test")
    subjects = lambda role: sorted(  # noqa: E731
        c for st in iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]["Statement"]
        for op, kv in st["Condition"].items() for k, v in kv.items() if k.endswith(":sub")
        for c in (v if isinstance(v, list) else [v]))
    check(subjects(f"{STACK}-deploy-apply") == ["repo:acme/thumbnail:environment:production"],
          f"deploy roles: apply trusted by {subjects(f'{STACK}-deploy-apply')}")
    check(subjects(f"{STACK}-deploy-plan") == ["repo:acme/thumbnail:pull_request", "repo:acme/thumbnail:ref:refs/heads/main"],
          f"deploy roles: plan trusted by {subjects(f'{STACK}-deploy-plan')}")

    arn = f"arn:aws:iam::{ACCOUNT}"
    boundary_arn = f"{arn}:policy/{STACK}-stack-boundary"
    stack_role = f"{arn}:role/{STACK}-stack/{STACK}-function"
    bucket = f"arn:aws:s3:::{STACK}-originals-{ACCOUNT}-us-east-1"
    bounded = {"iam:PermissionsBoundary": boundary_arn}
    apply_, _ = role_policies(iam, f"{STACK}-deploy-apply")
    plan, _ = role_policies(iam, f"{STACK}-deploy-plan")
    cases = [  # (who, may?, action, resource, context)
        ("apply", False, "iam:PutRolePolicy", f"{arn}:role/{STACK}-deploy-apply", bounded),
        ("apply", False, "iam:AttachRolePolicy", f"{arn}:role/{STACK}-deploy-apply", bounded),
        ("apply", False, "iam:UpdateAssumeRolePolicy", f"{arn}:role/{STACK}-deploy-apply", {}),
        ("apply", False, "iam:PutRolePolicy", f"{arn}:role/{STACK}-deploy-plan", bounded),
        ("apply", False, "iam:AttachRolePolicy", f"{arn}:role/{STACK}-deploy-plan", bounded),
        ("apply", False, "iam:UpdateAssumeRolePolicy", f"{arn}:role/{STACK}-deploy-plan", {}),
        ("apply", False, "iam:CreateRole", stack_role, {}),
        ("apply", False, "iam:PutRolePolicy", stack_role, {}),
        ("apply", False, "iam:CreateRole", f"{arn}:role/{STACK}-escape", bounded),
        ("apply", True, "iam:CreateRole", stack_role, bounded),
        ("apply", True, "iam:PutRolePolicy", stack_role, bounded),
        ("apply", False, "iam:DeleteRolePermissionsBoundary", stack_role, {}),
        ("apply", False, "iam:CreatePolicyVersion", boundary_arn, {}),
        ("apply", False, "iam:CreatePolicy", f"{arn}:policy/{STACK}-admin", {}),
        ("apply", False, "iam:PassRole", stack_role, {"iam:PassedToService": "ec2.amazonaws.com"}),
        ("apply", True, "iam:PassRole", stack_role, {"iam:PassedToService": "lambda.amazonaws.com"}),
        ("apply", False, "s3:GetObject", "arn:aws:s3:::payroll-exports/2026/12.csv", {}),
        ("apply", False, "s3:PutBucketPolicy", "arn:aws:s3:::payroll-exports", {}),
        ("apply", True, "s3:PutBucketPolicy", bucket, {}),
        ("apply", False, "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod-db-AbCdEf", {}),
        ("apply", False, "kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab", {}),
        ("apply", True, "kms:ScheduleKeyDeletion", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
         {"aws:ResourceTag/thumbnail-stack": STACK}),
        ("apply", False, "lambda:UpdateFunctionCode", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:payments", {}),
        ("apply", False, "sqs:ReceiveMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders", {}),
        ("plan", False, "s3:GetObject", f"{bucket}/uploads/cat.jpg", {}),
        ("plan", False, "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{STACK}-credentials-AbCdEf", {}),
        ("plan", False, "s3:PutObject", "arn:aws:s3:::acme-terraform-state/thumbnail.tfstate", {}),
        ("plan", False, "iam:PutRolePolicy", f"{arn}:role/{STACK}-deploy-plan", {}),
        ("plan", True, "s3:GetObject", "arn:aws:s3:::acme-terraform-state/thumbnail.tfstate", {}),
        ("plan", True, "s3:GetBucketPolicy", bucket, {}),
        ("plan", True, "lambda:GetFunctionConfiguration", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{STACK}", {}),
    ]
    policies = {"apply": apply_, "plan": plan}
    wrong = [f"{who} {'may not' if may else 'may'} {action} on {res}{' with ' + str(ctx) if ctx else ''}"
             for who, may, action, res, ctx in cases if allowed(policies[who], action, res, ctx) != may]
    check(not wrong, "deploy roles:\n    " + "\n    ".join(wrong))
    print(f"  deploy roles: {len(cases)} requests decided as intended (apply bounded to the stack, plan reads no data)", flush=True)
    return managed_policy(iam, boundary_arn)


def within_boundary(name, state, boundary):
    """Every call the stack's roles are granted is one their boundary allows (or the boundary
    would break the function), and the roles carry the boundary under the stack's path."""
    from iam_eval import allowed

    res = {a: r for a, r in by_address(state["values"]["root_module"]).items() if r["mode"] == "managed"}
    key = res["aws_kms_key.this"]["values"]
    context = {"aws:ResourceTag/thumbnail-stack": key["tags"].get("thumbnail-stack")}
    denied = []
    for role, policy in (("function", "aws_iam_role_policy.function"), ("batch", "aws_iam_role_policy.batch[0]")):
        r = res[f"aws_iam_role.{role}" + ("[0]" if role == "batch" else "")]["values"]
        check(r["path"] == STACK_PATH and r["permissions_boundary"] == BOUNDARY, f"{name}: {role} role {r['path']} {r['permissions_boundary']}")
        for st in json.loads(res[policy]["values"]["policy"])["Statement"]:
            for action in st["Action"] if isinstance(st["Action"], list) else [st["Action"]]:
                for resource in st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]:
                    concrete = resource.replace("*", "x")
                    if not allowed([{"Statement": [st]}], action, concrete, context, boundary):
                        denied.append(f"{role}: {action} on {concrete}")
    check(not denied, f"{name}: the boundary refuses what the stack's roles need: {denied}")


def main():
    need_tools()
    work = Path(tempfile.mkdtemp(prefix="tf-moto-"))
    proc, endpoint = start_moto()
    try:
        shutil.copytree(INFRA, work / "infra", ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "tfplan"))
        with zipfile.ZipFile(work / "bootstrap.zip", "w") as z:
            z.writestr("bootstrap", "#!/bin/sh\n")
        cli = work / "cli.tfrc"
        cli.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MIRROR}"\n  }}\n}}\n')
        env = dict(os.environ, TF_CLI_CONFIG_FILE=str(cli), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1",
                   AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_ENDPOINT_URL=endpoint, AWS_EC2_METADATA_DISABLED="true")
        # The module and the example validate on their own, with their own lock files.
        for root in (work / "infra", work / "infra/examples/aws", work / "infra/deploy-roles"):
            e = dict(env, TF_DATA_DIR=str(root / ".terraform"))
            tf(root, e, "init", "-backend=false", "-input=false", "-lockfile=readonly")
            tf(root, e, "validate")
        print("  init (lock files as committed) and validate: infra, infra/examples/aws, infra/deploy-roles", flush=True)
        # The CDN's CloudFront Function, on the cases thumbnail-http's FormatClass passes.
        subprocess.run(["node", str(INFRA / "cdn/accept.test.js")], check=True)
        boundary = deploy_roles(work, env, endpoint)
        for name, layout in LAYOUTS.items():
            # A fresh account for each layout: both use the same names.
            urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST"))
            run_layout(name, layout, endpoint, work, env, boundary)
    except Failed as e:
        sys.exit(f"infra/tests/run.py: {e}")
    finally:
        proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("terraform against moto: ok")


if __name__ == "__main__":
    main()
