#!/usr/bin/env python3
"""Checks the SAM templates for mistakes that `sam validate --lint` and `cfn-lint` let through.

Neither linter follows a `!GetAtt`/`!Ref` inside `AWS::Serverless::HttpApi` `Auth.Authorizers`
(SAM copies it into the OpenAPI body, and a misspelt name only fails at deploy time, or worse,
deploys an API whose authorizer cannot be invoked: every request answers 500). This script checks:

- every Ref, GetAtt, Sub variable and If condition names a real parameter, resource or condition;
- the HTTP API's default authorizer exists, a Lambda authorizer may be invoked by API Gateway
  (EnableFunctionDefaultPermissions or FunctionInvokeRole) and its response style agrees with
  the function's AUTHORIZER_RESPONSE_STYLE (both must come from the same parameter), as its
  ReauthorizeEvery agrees with AUTHORIZER_CACHE_TTL_SECONDS;
- every function is built by cargo-lambda from a binary that exists in the workspace, and every
  Lambda binary of the workspace is deployed by template.yaml;
- every HttpApi event has a Path and a Method, points at an API of the template, and names an
  authorizer that exists (or NONE);
- each environment variable given to a function is read somewhere in that binary's crate, so a
  renamed variable cannot silently fall back to a default;
- template-jwt.yaml serves the same routes as template.yaml;
- sam local can run it: no environment variable is `!If [cond, value, !Ref AWS::NoValue]` (sam
  local resolves that to an empty string even with --parameter-overrides; only a Secrets Manager
  dynamic reference, which no plain !Ref can replace, may keep it), and the functions'
  Architectures come from a parameter that allows x86_64 and arm64.
- secrets come from Secrets Manager: TWILIO_SETTINGS (the Twilio API key secret among them) is a
  `{{resolve:secretsmanager:...}}` dynamic reference, never a parameter's or a literal value;
- samconfig.toml.example names only parameters its environment's template declares, in its
  parameter_overrides and in the commented-out suggestions next to them (a renamed parameter
  fails `sam deploy` with "Parameters: [X] do not exist in the template");
- template-authorizer.yaml (the authorizer alone, for an existing API) grants API Gateway the
  right to invoke it (an AWS::Lambda::Permission for apigateway.amazonaws.com), outputs its ARN
  and invocation URI, and gives it the same environment variables as template.yaml does.

Usage: scripts/check_template.py [template.yaml template-jwt.yaml template-authorizer.yaml]   (exit 1 on any problem)
       scripts/check_template.py --self-test   (proves each check catches the mistake it is for)
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("check_template.py needs PyYAML: pip install pyyaml (or apt-get install python3-yaml)")

ROOT = Path(__file__).resolve().parent.parent
PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}
# Crates whose binaries are not Lambda functions.
NOT_DEPLOYED_PACKAGES = {"local-api", "testkit"}


class CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns CloudFormation short tags (!Ref, !GetAtt, ...) into their long form."""


def _construct_tag(loader: CfnLoader, suffix: str, node: yaml.Node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load(path: Path) -> dict:
    with path.open() as f:
        return yaml.load(f, Loader=CfnLoader)


def walk(node, path="$"):
    """Yields (path, node) for every dict and list in the tree."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


def check_references(t: dict) -> list[str]:
    problems = []
    parameters = set(t.get("Parameters", {}))
    resources = set(t.get("Resources", {}))
    conditions = set(t.get("Conditions", {}))
    referable = parameters | resources | PSEUDO_PARAMETERS
    for path, node in walk({k: v for k, v in t.items() if k != "Parameters"}):
        if not isinstance(node, dict):
            continue
        if "Ref" in node and isinstance(node["Ref"], str) and node["Ref"] not in referable:
            problems.append(f"{path}: !Ref {node['Ref']} names no parameter or resource")
        if "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            name = target[0] if isinstance(target, list) else str(target).split(".")[0]
            if name not in resources:
                problems.append(f"{path}: !GetAtt {name} names no resource")
        if "Fn::Sub" in node:
            sub = node["Fn::Sub"]
            text, local = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1] if len(sub) > 1 else {})
            for var in re.findall(r"\$\{([^!}][^}]*)\}", text):
                base = var.split(".")[0]
                if var not in local and var not in referable and base not in resources:
                    problems.append(f"{path}: !Sub variable ${{{var}}} names nothing")
        if "Fn::If" in node:
            cond = node["Fn::If"][0]
            if cond not in conditions:
                problems.append(f"{path}: !If condition {cond} is not defined")
        if "Condition" in node and isinstance(node["Condition"], str) and path.count(".") <= 3:
            if node["Condition"] not in conditions:
                problems.append(f"{path}: Condition {node['Condition']} is not defined")
    return problems


def functions(t: dict) -> dict[str, dict]:
    return {k: v for k, v in t.get("Resources", {}).items() if v.get("Type") == "AWS::Serverless::Function"}


def http_apis(t: dict) -> dict[str, dict]:
    return {k: v for k, v in t.get("Resources", {}).items() if v.get("Type") == "AWS::Serverless::HttpApi"}


def routes(t: dict) -> dict[tuple[str, str], tuple[str, bool]]:
    """(METHOD, path) -> (binary, public)."""
    found = {}
    for fn in functions(t).values():
        binary = fn.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        for event in fn.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties", {})
            public = props.get("Auth", {}).get("Authorizer") == "NONE"
            found[(str(props.get("Method", "")).upper(), props.get("Path", ""))] = (binary, public)
    return found


def parameters_used(node, conditions: dict) -> set[str]:
    """Names referenced by node with !Ref, following the conditions its !If uses."""
    names, seen = set(), set()
    pending = [node]
    while pending:
        for _, n in walk(pending.pop()):
            if not isinstance(n, dict):
                continue
            if isinstance(n.get("Ref"), str):
                names.add(n["Ref"])
            for cond in ([n["Fn::If"][0]] if "Fn::If" in n else []) + [n.get("Condition")]:
                if isinstance(cond, str) and cond in conditions and cond not in seen:
                    seen.add(cond)
                    pending.append(conditions[cond])
    return names


def check_api(t: dict) -> list[str]:
    problems = []
    resources = t.get("Resources", {})
    conditions = t.get("Conditions", {})
    apis = http_apis(t)
    if not apis:
        if any(e.get("Type") == "HttpApi" for fn in functions(t).values() for e in fn.get("Properties", {}).get("Events", {}).values()):
            return ["HttpApi events but no AWS::Serverless::HttpApi resource"]
        return check_authorizer_only(t)
    for api_name, api in apis.items():
        auth = api.get("Properties", {}).get("Auth", {})
        authorizers = auth.get("Authorizers", {})
        default = auth.get("DefaultAuthorizer")
        if default and default not in authorizers:
            problems.append(f"{api_name}: DefaultAuthorizer {default} is not in Auth.Authorizers")
        for name, authorizer in authorizers.items():
            if "JwtConfiguration" in authorizer:
                jwt = {k.lower(): v for k, v in authorizer["JwtConfiguration"].items()}
                for key in ("issuer", "audience"):
                    if key not in jwt:
                        problems.append(f"{api_name}: JWT authorizer {name} has no {key}")
                continue
            if not authorizer.get("EnableFunctionDefaultPermissions") and not authorizer.get("FunctionInvokeRole"):
                problems.append(
                    f"{api_name}: Lambda authorizer {name} has neither EnableFunctionDefaultPermissions: true nor "
                    "a FunctionInvokeRole; API Gateway cannot invoke it and answers 500"
                )
            if str(authorizer.get("AuthorizerPayloadFormatVersion")) != "2.0":
                problems.append(f"{api_name}: Lambda authorizer {name} should use payload format 2.0")
            arn = authorizer.get("FunctionArn", {})
            target = arn.get("Fn::GetAtt", [None])[0] if isinstance(arn, dict) else None
            fn = resources.get(target) if target else None
            if fn is None or fn.get("Type") != "AWS::Serverless::Function":
                problems.append(f"{api_name}: Lambda authorizer {name} FunctionArn does not !GetAtt a function")
                continue
            env = fn.get("Properties", {}).get("Environment", {}).get("Variables", {})
            style = env.get("AUTHORIZER_RESPONSE_STYLE")
            simple = authorizer.get("EnableSimpleResponses")
            if style is None:
                problems.append(f"{target}: AUTHORIZER_RESPONSE_STYLE is not set")
            elif isinstance(simple, dict) or isinstance(style, dict):
                if not parameters_used(simple, conditions) & parameters_used(style, conditions):
                    problems.append(
                        f"{api_name}: EnableSimpleResponses of {name} and {target}'s AUTHORIZER_RESPONSE_STYLE "
                        "are not derived from the same parameter"
                    )
            elif bool(simple) != (style == "simple"):
                problems.append(f"{api_name}: EnableSimpleResponses={simple} but AUTHORIZER_RESPONSE_STYLE={style}")
            identity = authorizer.get("Identity", {})
            # The authorizer refuses route rules unless it knows API Gateway's answer cache is off,
            # so the TTL it is told must be the TTL API Gateway uses.
            ttl_env = env.get("AUTHORIZER_CACHE_TTL_SECONDS")
            ttl = identity.get("ReauthorizeEvery")
            if ttl_env is not None and not (
                parameters_used(ttl, conditions) & parameters_used(ttl_env, conditions)
                or (not isinstance(ttl, dict) and str(ttl) == str(ttl_env))
            ):
                problems.append(
                    f"{api_name}: ReauthorizeEvery of {name} and {target}'s AUTHORIZER_CACHE_TTL_SECONDS disagree"
                )
            if "Authorization" not in identity.get("Headers", []):
                problems.append(f"{api_name}: Lambda authorizer {name} identity source is not the Authorization header")

    for fn_name, fn in functions(t).items():
        for ev_name, event in fn.get("Properties", {}).get("Events", {}).items():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties", {})
            where = f"{fn_name}.Events.{ev_name}"
            for key in ("Path", "Method"):
                if not props.get(key):
                    problems.append(f"{where}: no {key}")
            api_ref = props.get("ApiId", {})
            api_name = api_ref.get("Ref") if isinstance(api_ref, dict) else None
            if api_name not in apis:
                problems.append(f"{where}: ApiId does not !Ref an HttpApi of this template")
                continue
            named = props.get("Auth", {}).get("Authorizer")
            authorizers = apis[api_name].get("Properties", {}).get("Auth", {}).get("Authorizers", {})
            if named and named != "NONE" and named not in authorizers:
                problems.append(f"{where}: Authorizer {named} is not defined on {api_name}")
    return problems


def authorizer_functions(t: dict) -> dict[str, dict]:
    return {
        name: fn
        for name, fn in functions(t).items()
        if fn.get("Metadata", {}).get("BuildProperties", {}).get("Binary") == "authorizer"
    }


def names_resource(value, name: str) -> bool:
    """Whether `value` is `!Ref name`, `!GetAtt name.Arn` or a `!Sub` naming `${name...}`."""
    if not isinstance(value, dict):
        return False
    if value.get("Ref") == name:
        return True
    get_att = value.get("Fn::GetAtt")
    if isinstance(get_att, list) and get_att[:1] == [name]:
        return True
    sub = value.get("Fn::Sub")
    text = sub[0] if isinstance(sub, list) else sub
    return isinstance(text, str) and re.search(r"\$\{" + re.escape(name) + r"[.}]", text) is not None


def check_authorizer_only(t: dict) -> list[str]:
    """A template with the authorizer and no API: API Gateway must be allowed to invoke it, and the
    outputs must say what to attach."""
    problems = []
    authorizers = authorizer_functions(t)
    if len(authorizers) != 1:
        return [f"no API and {len(authorizers)} functions built from the authorizer binary (want exactly one)"]
    name = next(iter(authorizers))
    permissions = [
        r.get("Properties", {})
        for r in t.get("Resources", {}).values()
        if r.get("Type") == "AWS::Lambda::Permission"
    ]
    if not any(
        p.get("Principal") == "apigateway.amazonaws.com"
        and p.get("Action") == "lambda:InvokeFunction"
        and names_resource(p.get("FunctionName"), name)
        for p in permissions
    ):
        problems.append(
            f"{name}: no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke it; "
            "every request to an API it protects would answer 500"
        )
    outputs = [o.get("Value") for o in t.get("Outputs", {}).values()]
    if not any(names_resource(v, name) and isinstance(v, dict) and "Fn::GetAtt" in v for v in outputs):
        problems.append(f"{name}: no output gives its ARN")
    if not any(isinstance(v, dict) and names_resource(v, name) and "/invocations" in str(v.get("Fn::Sub", "")) for v in outputs):
        problems.append(f"{name}: no output gives its invocation URI (AuthorizerUri)")
    return problems


def authorizer_environment(t: dict) -> set[str]:
    return {
        var
        for fn in authorizer_functions(t).values()
        for var in fn.get("Properties", {}).get("Environment", {}).get("Variables", {})
    }


def workspace_binaries() -> dict[str, Path]:
    """Binary target name -> the crate directory that builds it."""
    run = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        sys.exit(f"check_template.py: cargo metadata failed (is the workspace manifest valid?):\n{run.stderr}")
    out = run.stdout
    binaries = {}
    for package in json.loads(out)["packages"]:
        for target in package["targets"]:
            if "bin" in target["kind"] and package["name"] not in NOT_DEPLOYED_PACKAGES:
                binaries[target["name"]] = Path(package["manifest_path"]).parent
    return binaries


def check_functions(t: dict, binaries: dict[str, Path], require_all: bool) -> list[str]:
    problems = []
    deployed = set()
    for name, fn in functions(t).items():
        meta = fn.get("Metadata", {})
        binary = meta.get("BuildProperties", {}).get("Binary")
        if meta.get("BuildMethod") != "rust-cargolambda":
            problems.append(f"{name}: Metadata.BuildMethod is not rust-cargolambda")
        if binary not in binaries:
            problems.append(f"{name}: Metadata.BuildProperties.Binary {binary!r} is not a binary of the workspace")
            continue
        deployed.add(binary)
        env = fn.get("Properties", {}).get("Environment", {}).get("Variables", {})
        crate_source = "\n".join(p.read_text() for p in (binaries[binary] / "src").rglob("*.rs"))
        for var in env:
            if f'"{var}"' not in crate_source:
                problems.append(f"{name}: environment variable {var} is not read anywhere in {binaries[binary].name}/src")
    if require_all:
        for missing in sorted(set(binaries) - deployed):
            problems.append(f"binary {missing} is built by the workspace but no function in the template deploys it")
    return problems


def is_no_value_if(value) -> bool:
    """`!If [cond, x, !Ref AWS::NoValue]` (either branch) around anything but a dynamic reference."""
    if not isinstance(value, dict) or "Fn::If" not in value:
        return False
    branches = value["Fn::If"][1:]
    if {"Ref": "AWS::NoValue"} not in branches:
        return False
    return "{{resolve:" not in json.dumps(branches)


def check_sam_local(t: dict) -> list[str]:
    problems = []
    for name, fn in functions(t).items():
        env = fn.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for var, value in env.items():
            if is_no_value_if(value):
                problems.append(
                    f"{name}: {var} is !If [..., !Ref AWS::NoValue], which sam local turns into an empty string "
                    "even with --parameter-overrides; use a plain !Ref (the functions read empty as unset)"
                )
    globals_arch = t.get("Globals", {}).get("Function", {}).get("Architectures")
    for name, fn in functions(t).items():
        # A function's own Architectures overrides the Globals one.
        architectures = fn.get("Properties", {}).get("Architectures", globals_arch)
        param = architectures[0].get("Ref") if isinstance(architectures, list) and len(architectures) == 1 and isinstance(architectures[0], dict) else None
        allowed = set(t.get("Parameters", {}).get(param, {}).get("AllowedValues", [])) if param else set()
        if not {"arm64", "x86_64"} <= allowed:
            problems.append(
                f"{name}: Architectures is {architectures!r}: make it [!Ref <parameter>] allowing arm64 and x86_64, "
                "so sam local can run the functions on an x86_64 machine"
            )
    return problems


# Variables whose value holds a secret: they must be resolved from Secrets Manager at deploy time,
# so the secret is in no template, stack parameter or samconfig.toml.
SECRET_VARIABLES = {"TWILIO_SETTINGS", "TWILIO_API_KEY_SECRET"}


def check_secrets(t: dict) -> list[str]:
    problems = []
    for name, fn in functions(t).items():
        env = fn.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for var in sorted(SECRET_VARIABLES & set(env)):
            value = env[var]
            leaves = value["Fn::If"][1:] if isinstance(value, dict) and "Fn::If" in value else [value]
            for leaf in leaves:
                if leaf in ("", {"Ref": "AWS::NoValue"}):
                    continue
                if not (isinstance(leaf, dict) and "{{resolve:secretsmanager:" in json.dumps(leaf.get("Fn::Sub", ""))):
                    problems.append(
                        f"{name}: {var} holds a secret but is {json.dumps(leaf)}, not a Secrets Manager dynamic reference "
                        "(!Sub \"{{resolve:secretsmanager:${...}}}\"): the secret would be a stack parameter"
                    )
    return problems


def check(paths: list[Path], binaries: dict[str, Path]) -> list[str]:
    problems = []
    templates = {p.name: load(p) for p in paths}
    for name, t in templates.items():
        found = (
            check_references(t)
            + check_api(t)
            + check_functions(t, binaries, require_all=name == "template.yaml")
            + check_sam_local(t)
            + check_secrets(t)
        )
        problems += [f"{name}: {p}" for p in found]
    if "template.yaml" in templates and "template-jwt.yaml" in templates:
        main, jwt = routes(templates["template.yaml"]), routes(templates["template-jwt.yaml"])
        if main != jwt:
            problems.append(f"template-jwt.yaml serves other routes than template.yaml: {sorted(main)} vs {sorted(jwt)}")
    if "template.yaml" in templates and "template-authorizer.yaml" in templates:
        problems += compare_authorizer_environment(templates["template.yaml"], templates["template-authorizer.yaml"])
    samconfig = ROOT / "samconfig.toml.example"
    if samconfig.exists():
        every = {p.name: load(p) for p in ROOT.glob("template*.yaml")}
        problems += check_samconfig(samconfig.read_text(), every)
    return problems


def check_samconfig(text: str, templates: dict[str, dict]) -> list[str]:
    """Every `Name=` of samconfig.toml.example, commented out or not, is a parameter of the template
    its environment builds."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python before 3.11
        print("warning: samconfig.toml.example not checked: needs Python 3.11 (tomllib)", file=sys.stderr)
        return []

    problems = []
    config = tomllib.loads(text)
    # Where each environment's section starts and ends, to read its commented-out suggestions too.
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"^\[(\w+)\.global\.parameters\]", text, re.M)]
    for i, (start, env) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        template_file = config.get(env, {}).get("build", {}).get("parameters", {}).get("template_file", "template.yaml")
        template = templates.get(template_file)
        if template is None:
            problems.append(f"samconfig.toml.example [{env}]: template_file {template_file} is not a template of this repository")
            continue
        declared = set(template.get("Parameters", {}))
        for name in re.findall(r'"([A-Za-z][A-Za-z0-9]*)=', text[start:end]):
            if name not in declared:
                problems.append(f"samconfig.toml.example [{env}]: {name} is not a parameter of {template_file}")
    return problems


def compare_authorizer_environment(main: dict, alone: dict) -> list[str]:
    """The authorizer deployed alone must be configurable exactly like the one in template.yaml."""
    a, b = authorizer_environment(main), authorizer_environment(alone)
    if a == b:
        return []
    return [
        "template-authorizer.yaml: the authorizer's environment differs from template.yaml's: "
        f"only in template.yaml {sorted(a - b)}, only in template-authorizer.yaml {sorted(b - a)}"
    ]


def self_test(binaries: dict[str, Path]) -> int:
    """Breaks template.yaml in each way this script claims to catch, and checks it is caught."""
    good = load(ROOT / "template.yaml")
    if problems := check_single(good, binaries):
        print("template.yaml is not clean to start with:", *problems, sep="\n  ")
        return 1
    api = next(iter(http_apis(good)))
    auth_path = ("Resources", api, "Properties", "Auth")

    def at(t, *keys):
        for k in keys:
            t = t[k]
        return t

    def first_authorizer(t):
        return next(iter(at(t, *auth_path, "Authorizers").values()))

    def protected_event(t):
        for fn in functions(t).values():
            for ev in fn.get("Properties", {}).get("Events", {}).values():
                if ev.get("Properties", {}).get("Auth", {}).get("Authorizer") != "NONE":
                    return ev["Properties"]
        raise AssertionError("no protected route")

    mutations = {
        "misspelt !GetAtt in Auth.Authorizers": lambda t: first_authorizer(t).update(
            FunctionArn={"Fn::GetAtt": ["AuthorizerFuntion", "Arn"]}
        ),
        "authorizer without invoke permission": lambda t: first_authorizer(t).pop("EnableFunctionDefaultPermissions"),
        "simple responses disagree with the function": lambda t: first_authorizer(t).update(EnableSimpleResponses=True)
        or at(t, "Resources", "AuthorizerFunction", "Properties", "Environment", "Variables").update(
            AUTHORIZER_RESPONSE_STYLE="iam"
        ),
        "simple responses from another parameter": lambda t: first_authorizer(t).update(
            EnableSimpleResponses={"Fn::If": ["HasTwilio", True, False]}
        ),
        "cache TTL told to the authorizer differs from API Gateway's": lambda t: first_authorizer(t)["Identity"].update(
            ReauthorizeEvery=300
        )
        or at(t, "Resources", "AuthorizerFunction", "Properties", "Environment", "Variables").update(
            AUTHORIZER_CACHE_TTL_SECONDS="0"
        ),
        "unknown default authorizer": lambda t: at(t, *auth_path).update(DefaultAuthorizer="Nope"),
        "route without a method": lambda t: protected_event(t).pop("Method"),
        "route naming an unknown authorizer": lambda t: protected_event(t).update(Auth={"Authorizer": "Nope"}),
        "unknown binary": lambda t: at(t, "Resources", "AuthorizerFunction", "Metadata", "BuildProperties").update(
            Binary="authoriser"
        ),
        "environment variable nobody reads": lambda t: at(
            t, "Resources", "AuthorizerFunction", "Properties", "Environment", "Variables"
        ).update(JWT_ISUER="x"),
        "undefined condition": lambda t: at(
            t, "Resources", "AuthorizerFunction", "Properties", "Environment", "Variables"
        ).update(JWKS_URI={"Fn::If": ["NoSuchCondition", "a", "b"]}),
        "dangling !Ref": lambda t: at(t, "Outputs").update(X={"Value": {"Ref": "Apii"}}),
        "function not deployed": lambda t: at(t, "Resources").pop("PrivateFunction"),
        "variable behind !If/AWS::NoValue (empty under sam local)": lambda t: at(
            t, "Resources", "AuthorizerFunction", "Properties", "Environment", "Variables"
        ).update(JWKS_URI={"Fn::If": ["HasTwilio", {"Ref": "JwksUri"}, {"Ref": "AWS::NoValue"}]}),
        "fixed arm64 architecture": lambda t: at(t, "Globals", "Function").update(Architectures=["arm64"]),
        "Twilio settings from a plain parameter": lambda t: at(
            t, "Resources", "TokenFunction", "Properties", "Environment", "Variables"
        ).update(TWILIO_SETTINGS={"Fn::If": ["HasTwilio", {"Ref": "TwilioSecretId"}, ""]}),
    }
    failed = 0
    for what, mutate in mutations.items():
        t = copy.deepcopy(good)
        mutate(t)
        caught = check_single(t, binaries)
        print(f"{'ok  ' if caught else 'MISS'} {what}" + (f": {caught[0]}" if caught else ""))
        failed += not caught

    alone = load(ROOT / "template-authorizer.yaml")
    if problems := check_references(alone) + check_api(alone) + compare_authorizer_environment(good, alone):
        print("template-authorizer.yaml is not clean to start with:", *problems, sep="\n  ")
        return 1

    def permission(t):
        return next(
            r["Properties"] for r in t["Resources"].values() if r.get("Type") == "AWS::Lambda::Permission"
        )

    def alone_env(t):
        return next(iter(authorizer_functions(t).values()))["Properties"]["Environment"]["Variables"]

    alone_mutations = {
        "authorizer alone without invoke permission": lambda t: permission(t).update(
            Principal="lambda.amazonaws.com"
        ),
        "authorizer alone, permission on another function": lambda t: permission(t).update(
            FunctionName={"Fn::GetAtt": ["SomethingElse", "Arn"]}
        ),
        "authorizer alone without the AuthorizerUri output": lambda t: at(t, "Outputs").pop("AuthorizerUri"),
        "authorizer alone missing a variable of template.yaml": lambda t: alone_env(t).pop("JWKS_URI"),
    }
    for what, mutate in alone_mutations.items():
        t = copy.deepcopy(alone)
        mutate(t)
        caught = check_references(t) + check_api(t) + compare_authorizer_environment(good, t)
        print(f"{'ok  ' if caught else 'MISS'} {what}" + (f": {caught[0]}" if caught else ""))
        failed += not caught
    templates = {p.name: load(p) for p in ROOT.glob("template*.yaml")}
    samconfig = (ROOT / "samconfig.toml.example").read_text()
    if problems := check_samconfig(samconfig, templates):
        print("samconfig.toml.example is not clean to start with:", *problems, sep="\n  ")
        return 1
    samconfig_mutations = {
        "samconfig naming a parameter the template lacks": samconfig.replace(
            '"JwtAudience=', '"JwtAudiences=', 1
        ),
        "samconfig suggesting a removed parameter in a comment": samconfig.replace(
            '# "TwilioSecretId=', '# "TwilioApiKeySecretId=', 1
        ),
    }
    for what, text in samconfig_mutations.items():
        caught = check_samconfig(text, templates) if text != samconfig else []
        print(f"{'ok  ' if caught else 'MISS'} {what}" + (f": {caught[0]}" if caught else ""))
        failed += not caught
    return 1 if failed else 0


def check_single(t: dict, binaries: dict[str, Path]) -> list[str]:
    return (
        check_references(t)
        + check_api(t)
        + check_functions(t, binaries, require_all=True)
        + check_sam_local(t)
        + check_secrets(t)
    )


def main(argv: list[str]) -> int:
    binaries = workspace_binaries()
    if argv == ["--self-test"]:
        return self_test(binaries)
    defaults = (ROOT / "template.yaml", ROOT / "template-jwt.yaml", ROOT / "template-authorizer.yaml")
    paths = [Path(a) for a in argv] or [p for p in defaults if p.exists()]
    problems = check(paths, binaries)
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if not problems:
        print(f"templates ok: {', '.join(p.name for p in paths)} ({len(binaries)} workspace binaries)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
