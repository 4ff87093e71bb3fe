"""OIDC and SAML identity providers and the account alias, end to end: the real CLI against
the strict local IAM layer (which emulates the provider APIs moto lacks)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from tests.support.cli import run_iamstate as run_cli
from tests.support.saml import metadata
from tests.support.strict import StrictIam

GITHUB = "token.actions.githubusercontent.com"
GITHUB_ARN = f"arn:aws:iam::123456789012:oidc-provider/{GITHUB}"

CONFIG = """\
account:
  id: "123456789012"

identity_providers:
  oidc:
    - url: https://token.actions.githubusercontent.com
      client_ids: [sts.amazonaws.com]
      tags: {owner: platform}

roles:
  - name: ci-deploy
    trusted:
      oidc:
        provider: token.actions.githubusercontent.com
        audience: sts.amazonaws.com
        subjects: ["repo:acme/infra:ref:refs/heads/main"]
"""


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "iam.yaml").write_text(text)
    return folder


def plan_json(strict: StrictIam, cwd: Path) -> dict[str, object]:
    target = "iam.yaml" if (cwd / "iam.yaml").exists() else "."
    result = run_cli(strict, cwd, "plan", target, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def assert_converged(strict: StrictIam, cwd: Path) -> None:
    result = run_cli(strict, cwd, "plan", "iam.yaml", "--detailed-exitcode", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "No changes. Live IAM matches the configuration.\n"


def apply(strict: StrictIam, cwd: Path) -> None:
    result = run_cli(strict, cwd, "apply", "iam.yaml", "--auto-approve", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not strict.refused()


def test_github_oidc_provider_and_role_lifecycle(strict_iam: StrictIam, tmp_path: Path) -> None:
    work = write(tmp_path, CONFIG)
    iam = strict_iam.client("iam")

    # Created in order (the provider before the role that trusts it), then converged.
    apply(strict_iam, work)
    writes = [c.operation for c in strict_iam.writes()]
    assert writes.index("CreateOpenIDConnectProvider") < writes.index("CreateRole")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=GITHUB_ARN)["ClientIDList"] == [
        "sts.amazonaws.com"
    ]
    assert_converged(strict_iam, work)

    # Client ids change in place: no replace, no delete.
    write(
        work, CONFIG.replace("client_ids: [sts.amazonaws.com]", "client_ids: [sigstore, sts.amazonaws.com]")
    )
    doc = plan_json(strict_iam, work)
    [change] = doc["changes"]  # type: ignore[misc]
    assert (change["address"], change["action"]) == (f"oidc_provider.{GITHUB}", "update")
    assert [c["operation"] for c in change["api_calls"]] == ["AddClientIDToOpenIDConnectProvider"]
    strict_iam.clear()
    apply(strict_iam, work)
    assert [c.operation for c in strict_iam.writes()] == ["AddClientIDToOpenIDConnectProvider"]
    assert sorted(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=GITHUB_ARN)["ClientIDList"]) == [
        "sigstore",
        "sts.amazonaws.com",
    ]
    assert_converged(strict_iam, work)

    write(work, CONFIG.replace("client_ids: [sts.amazonaws.com]", "client_ids: [sigstore]"))
    strict_iam.clear()
    apply(strict_iam, work)
    assert [c.operation for c in strict_iam.writes()] == ["RemoveClientIDFromOpenIDConnectProvider"]
    assert_converged(strict_iam, work)

    # Removed from the configuration: the role goes first, then the provider it trusted.
    write(work, 'account:\n  id: "123456789012"\n')
    strict_iam.clear()
    apply(strict_iam, work)
    writes = [c.operation for c in strict_iam.writes()]
    assert writes.index("DeleteRole") < writes.index("DeleteOpenIDConnectProvider")
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert_converged(strict_iam, work)


def test_a_role_trusting_a_provider_that_does_not_exist_fails_at_plan(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    text = CONFIG.split("identity_providers:")[0] + "roles:" + CONFIG.split("roles:")[1]
    work = write(tmp_path, text.replace(GITHUB + "\n", GITHUB + "x\n"))

    result = run_cli(strict_iam, work, "plan", "iam.yaml")

    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        f"iam.yaml:5:11: error: role 'ci-deploy' trusts OIDC provider '{GITHUB}x', which is neither "
        "declared nor in the account" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert strict_iam.writes() == []


def test_a_provider_that_exists_live_but_is_not_declared_may_be_trusted_and_is_left_alone(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    iam = strict_iam.client("iam")
    iam.create_open_id_connect_provider(Url=f"https://{GITHUB}", ClientIDList=["sts.amazonaws.com"])
    text = CONFIG.split("identity_providers:")[0] + "roles:" + CONFIG.split("roles:")[1]
    work = write(tmp_path, text)

    doc = plan_json(strict_iam, work)

    assert [(c["address"], c["action"]) for c in doc["changes"]] == [("role.ci-deploy", "create")]  # type: ignore[union-attr]
    assert [u["address"] for u in doc["unmanaged"]] == [f"oidc_provider.{GITHUB}"]  # type: ignore[index]
    apply(strict_iam, work)
    assert plan_json(strict_iam, work)["changes"] == []
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": GITHUB_ARN}]


def test_saml_provider_with_its_metadata_file_and_the_trust_shorthand(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    (tmp_path / "saml").mkdir()
    (tmp_path / "saml" / "okta.xml").write_text(metadata(valid_until="2031-01-01T00:00:00Z"))
    config = """\
account:
  id: "123456789012"

identity_providers:
  saml:
    - name: okta
      metadata_file: saml/okta.xml
      tags: {owner: identity}

roles:
  - name: console-admin
    trusted:
      saml: {provider: okta}
"""
    work = write(tmp_path, config)
    apply(strict_iam, work)
    iam = strict_iam.client("iam")
    arn = "arn:aws:iam::123456789012:saml-provider/okta"
    provider = iam.get_saml_provider(SAMLProviderArn=arn)
    assert provider["Tags"] == [
        {"Key": "iamstate:stack", "Value": "iamstate"},
        {"Key": "owner", "Value": "identity"},
    ]
    trust = iam.get_role(RoleName="console-admin")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Federated": arn},
            "Action": "sts:AssumeRoleWithSAML",
            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
        }
    ]
    assert_converged(strict_iam, work)

    # New metadata from the identity provider: updated in place.
    (tmp_path / "saml" / "okta.xml").write_text(metadata(valid_until="2032-01-01T00:00:00Z"))
    strict_iam.clear()
    apply(strict_iam, work)
    assert [c.operation for c in strict_iam.writes()] == ["UpdateSAMLProvider"]
    assert_converged(strict_iam, work)


def test_drift_reports_saml_metadata_that_expires_soon(strict_iam: StrictIam, tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(days=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (tmp_path / "okta.xml").write_text(metadata(valid_until=soon))
    config = (
        'account:\n  id: "123456789012"\n'
        "identity_providers:\n  saml:\n    - name: okta\n      metadata_file: okta.xml\n"
    )
    work = write(tmp_path, config)
    apply(strict_iam, work)
    strict_iam.root_mfa = True

    result = run_cli(strict_iam, work, "drift", "iam.yaml", "--format", "json")

    assert result.returncode == 2, result.stdout + result.stderr
    findings = json.loads(result.stdout)["live_findings"]
    [expiring] = [f for f in findings if f["rule"] == "saml-metadata-expiring"]
    assert expiring["address"] == "saml_provider.okta"
    assert "expires in 11 days" in expiring["message"] or "expires in 12 days" in expiring["message"]


def test_account_alias_is_created_replaced_in_order_and_imported(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    work = write(tmp_path, 'account:\n  id: "123456789012"\n  alias: acme-prod\n')
    iam = strict_iam.client("iam")
    apply(strict_iam, work)
    assert iam.list_account_aliases()["AccountAliases"] == ["acme-prod"]
    assert_converged(strict_iam, work)

    write(work, 'account:\n  id: "123456789012"\n  alias: acme-production\n')
    doc = plan_json(strict_iam, work)
    [change] = doc["changes"]  # type: ignore[misc]
    assert (change["address"], change["action"]) == ("account_alias.acme-production", "replace")
    strict_iam.clear()
    apply(strict_iam, work)
    assert [c.operation for c in strict_iam.writes()] == ["DeleteAccountAlias", "CreateAccountAlias"]
    assert iam.list_account_aliases()["AccountAliases"] == ["acme-production"]
    assert_converged(strict_iam, work)


def test_import_writes_providers_metadata_and_the_alias_and_plans_empty(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    iam = strict_iam.client("iam")
    iam.create_account_alias(AccountAlias="acme-prod")
    iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB}", ClientIDList=["sts.amazonaws.com"], Tags=[{"Key": "owner", "Value": "ci"}]
    )
    iam.create_saml_provider(Name="okta", SAMLMetadataDocument=metadata())
    out = tmp_path / "imported"

    result = run_cli(strict_iam, tmp_path, "import", "--out", "imported")

    assert result.returncode == 0, result.stdout + result.stderr
    account = yaml.safe_load((out / "account.yaml").read_text())
    assert account["account"]["alias"] == "acme-prod"
    providers = yaml.safe_load((out / "identity_providers.yaml").read_text())["identity_providers"]
    assert providers["oidc"] == [
        {"url": f"https://{GITHUB}", "client_ids": ["sts.amazonaws.com"], "tags": {"owner": "ci"}}
    ]
    assert providers["saml"] == [{"name": "okta", "metadata_file": "saml/okta.xml"}]
    assert (out / "saml" / "okta.xml").read_text().strip() == metadata().strip()

    # The first plan adopts what was imported (tags it for the stack); then nothing is left to do.
    adoption = plan_json(strict_iam, out)
    assert {(c["address"], c["action"]) for c in adoption["changes"]} == {  # type: ignore[union-attr]
        (f"oidc_provider.{GITHUB}", "import"),
        ("saml_provider.okta", "import"),
    }
    result = run_cli(strict_iam, out, "apply", ".", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_cli(strict_iam, out, "plan", ".", "--detailed-exitcode", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "No changes. Live IAM matches the configuration.\n"
