"""Loading valid configurations: the examples, merging, substitution, generated documents."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from iamstate import policy
from iamstate.config import config_files, load_config, schema
from iamstate.errors import ConfigError
from iamstate.kinds.group import Group
from iamstate.kinds.instance_profile import InstanceProfile
from iamstate.kinds.password_policy import PasswordPolicy
from iamstate.kinds.policy import ManagedPolicy
from iamstate.kinds.role import Role
from iamstate.kinds.user import User
from iamstate.model import PASSWORD_POLICY_ADDRESS, Address, DesiredConfig, Kind, SourceLocation

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def load(root: Path, files: dict[str, str], **kwargs: Any) -> DesiredConfig:
    loaded = load_config(write(root, files), **kwargs)
    assert loaded.findings == ()
    return loaded.config


def resource(config: DesiredConfig, kind: Kind, name: str) -> Any:
    found = config.state.resources.get(Address(kind, name))
    assert found is not None, f"{kind}.{name} not in {sorted(map(str, config.state))}"
    return found


# --- examples/ ----------------------------------------------------------------------


def test_examples_load_into_the_expected_entities() -> None:
    loaded = load_config(EXAMPLES)
    config = loaded.config
    assert loaded.findings == ()
    assert sorted(str(a) for a in config.state) == [
        "group.admins",
        "group.developers",
        "group.read-only",
        "instance_profile.web-server",
        "oidc_provider.token.actions.githubusercontent.com",
        "password_policy.account",
        "policy.ci-deploy",
        "policy.dev-boundary",
        "policy.iamstate-apply",
        "policy.iamstate-drift",
        "policy.iamstate-force-mfa",
        "policy.iamstate-plan",
        "policy.lambda-logging",
        "policy.reports-read",
        "role.auditor",
        "role.ci-deploy",
        "role.iamstate-apply",
        "role.iamstate-drift",
        "role.iamstate-plan",
        "role.lambda-app",
        "role.web-server",
        "user.alice",
        "user.bob",
        "user.carol",
        "user.dave",
        "user.erin",
    ]
    assert config.account_id == "123456789012"
    assert config.stack == "platform"
    assert config.scope.paths == ("/",)
    assert "AWSReservedSSO_*" in config.scope.ignore
    assert config.mfa.root == config.mfa.console_users == "required"
    assert config.credentials.max_access_key_age_days == 90
    assert config.credentials.max_unused_days == 45
    assert config.credentials.stale_access_keys == "report"
    assert config.manages_password_policy
    assert config.state.resources[PASSWORD_POLICY_ADDRESS] == PasswordPolicy(
        minimum_length=14,
        require_uppercase=True,
        require_lowercase=True,
        require_numbers=True,
        require_symbols=True,
        allow_users_to_change=True,
        max_age_days=90,
        reuse_prevention=24,
        hard_expiry=False,
    )


def test_examples_record_files_and_sources_as_the_caller_named_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    config = load_config("examples").config
    assert config.files == (
        "examples/account.yaml",
        "examples/groups.yaml",
        "examples/identity_providers.yaml",
        "examples/policies.yaml",
        "examples/roles.yaml",
        "examples/users.yaml",
        "examples/policies/ci-deploy.json",
        "examples/policies/iamstate-plan.json",
        "examples/policies/iamstate-drift.json",
        "examples/policies/iamstate-apply.json",
    )
    assert config.sources[Address(Kind.USER, "alice")] == SourceLocation("examples/users.yaml", 3, 11)
    assert config.sources[Address(Kind.INSTANCE_PROFILE, "web-server")].file == "examples/roles.yaml"
    assert all(address in config.sources for address in config.state)


def test_examples_substitute_partition_and_account_id() -> None:
    config = load_config(EXAMPLES, partition="aws-cn").config
    reports = resource(config, Kind.POLICY, "reports-read")
    raw = config.documents_raw[Address(Kind.POLICY, "reports-read")]
    assert raw["Statement"][1]["Resource"] == "arn:aws-cn:s3:::reports-123456789012/*"
    assert reports.document == policy.normalize(raw)
    assert "${" not in json.dumps(config.documents_raw[Address(Kind.POLICY, "ci-deploy")])
    admins = resource(config, Kind.GROUP, "admins")
    assert "arn:aws-cn:iam::aws:policy/PowerUserAccess" in admins.policies


def test_examples_document_file_is_read_relative_to_the_declaring_file() -> None:
    config = load_config(EXAMPLES).config
    expected = json.loads((EXAMPLES / "policies" / "ci-deploy.json").read_text())
    raw = config.documents_raw[Address(Kind.POLICY, "ci-deploy")]
    assert raw["Statement"][0]["Resource"] == [
        "arn:aws:s3:::deploy-artifacts-123456789012",
        "arn:aws:s3:::deploy-artifacts-123456789012/*",
    ]
    assert len(raw["Statement"]) == len(expected["Statement"])
    ci = resource(config, Kind.POLICY, "ci-deploy")
    assert ci.path == "/ci/"
    assert resource(config, Kind.ROLE, "ci-deploy").policies == {
        "arn:aws:iam::123456789012:policy/ci/ci-deploy"
    }


def test_the_examples_pass_the_json_schema_file_by_file() -> None:
    import yaml

    validator = jsonschema.Draft202012Validator(schema())
    for path in config_files(EXAMPLES):
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == [], path


# --- merging and files ---------------------------------------------------------------


def test_files_below_a_directory_are_merged(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "a.yaml": """
                policies:
                  - name: one
                    document: {Version: "2012-10-17", Statement: []}
                groups:
                  - name: readers
                    policies: [two]
            """,
            "nested/deeper/b.yml": """
                policies:
                  - name: two
                    document: {Version: "2012-10-17", Statement: []}
                users:
                  - name: alice
                    groups: [readers]
            """,
            "empty.yaml": "# nothing here yet\n",
            ".github/workflows/ci.yaml": "on: push\njobs: {}\n",
            "notes.txt": "not yaml",
        },
    )
    assert {a.name for a in config.state} == {"one", "two", "readers", "alice"}
    readers = resource(config, Kind.GROUP, "readers")
    assert readers.policies == {"arn:aws:iam::000000000000:policy/two"}
    assert resource(config, Kind.USER, "alice").groups == {"readers"}
    assert config.files == tuple(
        str(tmp_path / name) for name in ["a.yaml", "empty.yaml", "nested/deeper/b.yml"]
    )


def test_config_files_sorts_and_skips_hidden_paths(tmp_path: Path) -> None:
    write(tmp_path, {"b.yaml": "", "a/z.yml": "", ".hidden.yaml": "", ".git/x.yaml": "", "c.YAML": ""})
    assert config_files(tmp_path) == [tmp_path / "a/z.yml", tmp_path / "b.yaml", tmp_path / "c.YAML"]
    assert config_files(tmp_path / "b.yaml") == [tmp_path / "b.yaml"]
    with pytest.raises(ConfigError, match="no such file or directory"):
        config_files(tmp_path / "missing")


def test_a_single_file_can_be_loaded(tmp_path: Path) -> None:
    write(tmp_path, {"one.yaml": "users: [{name: alice}]\n", "other.yaml": "users: [{name: bob}]\n"})
    config = load_config(tmp_path / "one.yaml").config
    assert [a.name for a in config.state] == ["alice"]


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "b.yaml": "users:\n  - name: bob\n    groups: [nobody]\n",
            "a.yaml": "rolse: []\nmfa: {root: sometimes}\n",
        },
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    located = [(d.location.file, d.location.line) for d in caught.value.diagnostics if d.location]
    assert located == [
        (str(tmp_path / "a.yaml"), 1),
        (str(tmp_path / "a.yaml"), 2),
        (str(tmp_path / "b.yaml"), 3),
    ]


# --- defaults and substitution ------------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "main.yaml": """
                policies:
                  - name: p
                    document:
                      Version: 2012-10-17
                      Statement:
                        - {Effect: Allow, Action: s3:GetObject, Resource: "arn:${partition}:s3:::b-${account_id}/*"}
                roles:
                  - name: r
                    trusted: {services: [ec2.amazonaws.com]}
                users:
                  - name: u
            """
        },
    )
    assert config.account_id is None
    assert config.stack == "iamstate"
    assert config.scope.paths == ("/",) and config.scope.ignore == ()
    assert not config.manages_password_policy
    assert PASSWORD_POLICY_ADDRESS not in config.state.resources
    assert config.mfa.root is None and config.credentials.stale_access_keys == "report"
    p = resource(config, Kind.POLICY, "p")
    assert (p.path, p.description, dict(p.tags)) == ("/", "", {})
    raw = config.documents_raw[Address(Kind.POLICY, "p")]
    # An unquoted date stays the text that was written, not a datetime.
    assert raw["Version"] == "2012-10-17"
    # Without account.id, ${account_id} becomes a placeholder so that validate works offline.
    assert raw["Statement"][0]["Resource"] == "arn:aws:s3:::b-000000000000/*"
    r = resource(config, Kind.ROLE, "r")
    assert (r.path, r.description, r.max_session_duration, r.permissions_boundary) == ("/", "", 3600, None)
    assert Address(Kind.INSTANCE_PROFILE, "r") not in config.state.resources
    u = resource(config, Kind.USER, "u")
    assert u == User(name="u")


def test_iam_policy_variables_are_left_alone(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "main.yaml": """
                account: {id: "111122223333"}
                policies:
                  - name: own-keys
                    document:
                      Version: "2012-10-17"
                      Statement:
                        - Effect: Allow
                          Action: iam:ListAccessKeys
                          Resource: arn:${partition}:iam::${account_id}:user/${aws:username}
            """
        },
    )
    raw = config.documents_raw[Address(Kind.POLICY, "own-keys")]
    assert raw["Statement"][0]["Resource"] == "arn:aws:iam::111122223333:user/${aws:username}"


# --- trust policies -------------------------------------------------------------------


def role_trust(tmp_path: Path, trusted: str, account: str = "111122223333") -> tuple[Role, Any]:
    config = load(
        tmp_path,
        {
            "main.yaml": f"""
                account: {{id: "{account}"}}
                roles:
                  - name: r
                    trusted: {trusted}
            """
        },
    )
    role = resource(config, Kind.ROLE, "r")
    raw = config.documents_raw[Address(Kind.ROLE, "r")]
    assert role.trust == policy.normalize(raw)
    return role, raw


def test_trusted_services(tmp_path: Path) -> None:
    _, raw = role_trust(tmp_path, "{services: [ec2.amazonaws.com, ssm.amazonaws.com]}")
    assert raw == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["ec2.amazonaws.com", "ssm.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def test_trusted_accounts_with_external_id_and_mfa(tmp_path: Path) -> None:
    _, raw = role_trust(
        tmp_path,
        '{accounts: ["444455556666"], principals: ["arn:${partition}:iam::${account_id}:role/ops"], '
        "external_id: vendor-42, require_mfa: true}",
    )
    assert raw == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "AWS": ["arn:aws:iam::444455556666:root", "arn:aws:iam::111122223333:role/ops"]
                },
                "Action": "sts:AssumeRole",
                "Condition": {
                    "Bool": {"aws:MultiFactorAuthPresent": "true"},
                    "StringEquals": {"sts:ExternalId": "vendor-42"},
                },
            }
        ],
    }


def test_trusted_oidc(tmp_path: Path) -> None:
    _, raw = role_trust(
        tmp_path,
        "{oidc: {provider: token.actions.githubusercontent.com, audience: sts.amazonaws.com, "
        'subjects: ["repo:acme/infra:ref:refs/heads/main"]}}',
    )
    assert raw == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                    "StringLike": {
                        "token.actions.githubusercontent.com:sub": ["repo:acme/infra:ref:refs/heads/main"]
                    },
                },
            }
        ],
    }


def test_trusted_mixes_give_one_statement_per_principal_type(tmp_path: Path) -> None:
    _, raw = role_trust(tmp_path, '{services: [lambda.amazonaws.com], accounts: ["444455556666"]}')
    assert [s["Principal"] for s in raw["Statement"]] == [
        {"Service": "lambda.amazonaws.com"},
        {"AWS": "arn:aws:iam::444455556666:root"},
    ]
    assert all("Condition" not in s for s in raw["Statement"])


def test_full_trust_document_is_substituted(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "main.yaml": """
                account: {id: "111122223333"}
                roles:
                  - name: r
                    trust:
                      Version: "2012-10-17"
                      Statement:
                        - Effect: Allow
                          Principal: {AWS: "arn:${partition}:iam::${account_id}:role/admin"}
                          Action: sts:AssumeRole
            """
        },
    )
    raw = config.documents_raw[Address(Kind.ROLE, "r")]
    assert raw["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/admin"}


def test_instance_profile_holds_its_role(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "main.yaml": """
                roles:
                  - name: web
                    path: /app/
                    trusted: {services: [ec2.amazonaws.com]}
                    instance_profile: true
            """
        },
    )
    profile = resource(config, Kind.INSTANCE_PROFILE, "web")
    assert profile == InstanceProfile(name="web", path="/app/", roles=frozenset({"web"}))
    assert Address(Kind.INSTANCE_PROFILE, "web") in config.sources


# --- groups, references, exceptions ---------------------------------------------------


def test_require_mfa_attaches_one_force_mfa_policy(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "main.yaml": """
                account: {id: "111122223333"}
                groups:
                  - {name: a, require_mfa: true}
                  - {name: b, require_mfa: true}
                  - {name: c}
            """
        },
    )
    arn = "arn:aws:iam::111122223333:policy/iamstate-force-mfa"
    assert resource(config, Kind.GROUP, "a").policies == {arn}
    assert resource(config, Kind.GROUP, "b").policies == {arn}
    assert resource(config, Kind.GROUP, "c").policies == frozenset()
    assert len([a for a in config.state if a.kind is Kind.POLICY]) == 1
    force_mfa: ManagedPolicy = resource(config, Kind.POLICY, "iamstate-force-mfa")
    assert force_mfa.path == "/"
    raw = config.documents_raw[Address(Kind.POLICY, "iamstate-force-mfa")]
    deny = [s for s in raw["Statement"] if s["Effect"] == "Deny"]
    assert len(deny) == 1
    assert deny[0]["Condition"] == {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    assert "iam:EnableMFADevice" in deny[0]["NotAction"]
    resources = {s["Resource"] for s in raw["Statement"] if s["Effect"] == "Allow"}
    assert resources == {"*", "arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::*:mfa/*"}
    assert force_mfa.document == policy.normalize(raw)


def test_no_force_mfa_policy_without_require_mfa(tmp_path: Path) -> None:
    config = load(tmp_path, {"main.yaml": "groups: [{name: a}]\n"})
    assert [str(a) for a in config.state] == ["group.a"]


def test_references_to_declared_names_become_arns(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "policies.yaml": """
                account: {id: "111122223333"}
                policies:
                  - name: boundary
                    path: /boundaries/
                    document: {Version: "2012-10-17", Statement: []}
                  - name: read
                    document: {Version: "2012-10-17", Statement: []}
            """,
            "entities.yaml": """
                groups:
                  - name: g
                    policies: [read, "arn:${partition}:iam::aws:policy/ReadOnlyAccess"]
                users:
                  - name: u
                    groups: [g]
                    policies: [read]
                    permissions_boundary: boundary
                    tags: {team: data}
                roles:
                  - name: r
                    trusted: {services: [ec2.amazonaws.com]}
                    policies: ["arn:aws:iam::111122223333:policy/elsewhere"]
                    permissions_boundary: "arn:${partition}:iam::${account_id}:policy/boundaries/boundary"
            """,
        },
        partition="aws-us-gov",
    )
    assert resource(config, Kind.GROUP, "g") == Group(
        name="g",
        policies=frozenset(
            {"arn:aws-us-gov:iam::111122223333:policy/read", "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"}
        ),
    )
    user = resource(config, Kind.USER, "u")
    assert user.policies == {"arn:aws-us-gov:iam::111122223333:policy/read"}
    assert user.permissions_boundary == "arn:aws-us-gov:iam::111122223333:policy/boundaries/boundary"
    assert user.tags == {"team": "data"}
    role = resource(config, Kind.ROLE, "r")
    assert role.policies == {"arn:aws:iam::111122223333:policy/elsewhere"}
    assert role.permissions_boundary == user.permissions_boundary


def test_exceptions_are_kept_per_address(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "main.yaml": """
                password_policy:
                  minimum_length: 12
                  exceptions: {password-policy-weak: "Legacy SSO users; tracked in SEC-7"}
                users:
                  - name: u
                    policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
                    exceptions:
                      user-direct-policy: Break-glass reader, approved in SEC-42
            """
        },
    )
    assert config.exceptions == {
        Address(Kind.USER, "u"): {"user-direct-policy": "Break-glass reader, approved in SEC-42"},
        PASSWORD_POLICY_ADDRESS: {"password-policy-weak": "Legacy SSO users; tracked in SEC-7"},
    }
    assert config.state.resources[PASSWORD_POLICY_ADDRESS] == PasswordPolicy(minimum_length=12)


def test_yaml_document_file_below_the_config_is_not_read_as_config(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "iam/policies.yaml": """
                policies:
                  - name: p
                    document_file: ../documents/p.yaml
            """,
            "documents/p.yaml": """
                Version: "2012-10-17"
                Statement:
                  - {Effect: Allow, Action: s3:ListBucket, Resource: "arn:${partition}:s3:::b"}
            """,
        },
    )
    raw = config.documents_raw[Address(Kind.POLICY, "p")]
    assert raw["Statement"][0]["Resource"] == "arn:aws:s3:::b"
    assert config.files == (str(tmp_path / "iam/policies.yaml"), str(tmp_path / "documents/p.yaml"))


# --- refusals ---------------------------------------------------------------------------


def test_refused_keys_become_findings_and_loading_continues(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.yaml": """
                users:
                  - name: alice
                    access_keys: [AKIAEXAMPLE]
                    inline_policy: {Version: "2012-10-17", Statement: []}
                    tags: {password: "tags are data and not credentials"}
                mfa: {root: required}
            """
        },
    )
    loaded = load_config(tmp_path)
    assert [(f.rule, f.address, f.severity.value) for f in loaded.findings] == [
        ("credentials-in-config", "user.alice", "error"),
        ("inline-policy", "user.alice", "error"),
    ]
    assert loaded.findings[0].location == f"{tmp_path / 'main.yaml'}:4:5"
    assert "access_keys" in loaded.findings[0].message
    assert loaded.findings[1].remedy == "declare it under policies: and attach it by name"
    assert resource(loaded.config, Kind.USER, "alice").tags == {
        "password": "tags are data and not credentials"
    }


# --- the schema --------------------------------------------------------------------------


def test_schema_is_draft_2020_12_closed_and_documented() -> None:
    document = schema()
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"].endswith("iamstate.schema.json")
    jsonschema.Draft202012Validator.check_schema(document)
    on_disk = json.loads((REPO / "iamstate" / "schemas" / "iamstate.schema.json").read_text())
    assert document == on_disk

    def objects(node: Any) -> Any:
        if isinstance(node, dict):
            if "properties" in node:
                yield node
            for child in node.values():
                yield from objects(child)
        elif isinstance(node, list):
            for child in node:
                yield from objects(child)

    for obj in objects(document):
        assert obj.get("additionalProperties") is False, obj.get("title")
    for name, section in document["properties"].items():
        assert section.get("title") and section.get("description"), name


def test_yaml_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "main.yaml": """
                users:
                  - &base {name: alice, tags: {team: data, cost-center: "42"}}
                  - <<: *base
                    name: bob
            """
        },
    )
    assert resource(config, Kind.USER, "bob").tags == {"team": "data", "cost-center": "42"}


def test_where_each_entity_was_declared_reads_the_same_however_it_is_read(tmp_path: Path) -> None:
    (tmp_path / "iamstate.yaml").write_text(
        textwrap.dedent(
            """\
            roles:
              - name: app
                trusted: {services: [ec2.amazonaws.com]}
                instance_profile: true
              - name: gone
                absent: true
            users:
              - name: bob
            """
        )
    )
    sources = load_config(tmp_path).config.sources
    where = str(tmp_path / "iamstate.yaml")
    app, profile = Address(Kind.ROLE, "app"), Address(Kind.INSTANCE_PROFILE, "app")
    gone, bob = Address(Kind.ROLE, "gone"), Address(Kind.USER, "bob")
    expected = {
        app: SourceLocation(where, 2, 11),
        profile: SourceLocation(where, 4, 23),
        gone: SourceLocation(where, 5, 11),
        bob: SourceLocation(where, 8, 11),
    }
    assert sorted(sources) == sorted(expected) and len(sources) == 4
    assert sources.get(Address(Kind.USER, "nobody")) is None and Address(Kind.USER, "nobody") not in sources
    assert sources[bob] == expected[bob] and sources[bob] is sources[bob]  # made once, when first read
    assert sources == expected and expected == sources and dict(sources.items()) == expected


def test_a_loaded_configuration_keeps_no_parsed_file_alive() -> None:
    # plan holds the configuration beside everything it reads: the parsed files (their data
    # and every value's place) must be freed once the configuration is built. In a fresh
    # interpreter, so that no other test's parsed file is about.
    script = (
        "import gc, sys; from iamstate.config import load_config; from iamstate.config.yamlpos import YamlFile; "
        "loaded = load_config(sys.argv[1]); gc.collect(); "
        "print(len(loaded.config.sources), sum(isinstance(o, YamlFile) for o in gc.get_objects()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(REPO / "examples")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    declared, parsed_files = map(int, done.stdout.split())
    assert declared > 10 and parsed_files == 0
