#!/usr/bin/env python3
"""Supply-chain rules for .github/ (issue 31, item 9), checked in .ci/run:

- every `uses:` is pinned by a full 40-hex commit SHA, with the tag it stands for in a comment;
- Dependabot keeps github-actions, cargo and terraform pins fresh;
- no workflow grants `id-token: write` at its top level, and a job has it only when it assumes
  a role (aws-actions/configure-aws-credentials);
- in a job that assumes a role, no action but the credentials action itself runs after it
  (only `run` steps do), so no third-party code sees the credentials;
- setup-terraform's wrapper (a Node program around every terraform call) is off there.

Exit 1 with one line per breach. Reads YAML with PyYAML (installed if missing).
"""

import re
import subprocess
import sys
from pathlib import Path

try:
    import yaml
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pyyaml"], check=True)
    import yaml

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^\s*-?\s*uses:\s*([^@\s]+)@([0-9a-f]{40})\s+#\s*\S+")
CREDENTIALS = "aws-actions/configure-aws-credentials"


def check_workflow(path, text, errors):
    for n, line in enumerate(text.splitlines(), 1):
        if re.match(r"^\s*-?\s*uses:", line) and not PIN.match(line) and "uses: ./" not in line:
            errors.append(f"{path}:{n}: not pinned to a commit SHA with its tag in a comment: {line.strip()}")
    doc = yaml.safe_load(text)
    top = doc.get("permissions") or {}
    if isinstance(top, dict) and top.get("id-token") == "write":
        errors.append(f"{path}: id-token: write for every job (grant it per job)")
    for name, job in (doc.get("jobs") or {}).items():
        steps = job.get("steps") or []
        uses = [s.get("uses", "").split("@")[0] for s in steps]
        perms = job.get("permissions") or {}
        assumes = CREDENTIALS in uses
        if isinstance(perms, dict) and perms.get("id-token") == "write" and not assumes:
            errors.append(f"{path}: job {name} has id-token: write but assumes no role")
        if assumes and not (isinstance(perms, dict) and perms.get("id-token") == "write"):
            errors.append(f"{path}: job {name} assumes a role without its own id-token permission")
        if not assumes:
            continue
        after = steps[uses.index(CREDENTIALS) + 1:]
        for s in after:
            action = s.get("uses", "").split("@")[0]
            if action and action != CREDENTIALS and not (action.startswith("actions/") and name != "apply"
                                                        and job.get("environment") is None):
                errors.append(f"{path}: job {name} runs {action} after the credentials are in the environment")
        for s in steps:
            if s.get("uses", "").startswith("hashicorp/setup-terraform@"):
                if (s.get("with") or {}).get("terraform_wrapper") is not False:
                    errors.append(f"{path}: job {name}: setup-terraform's wrapper would wrap every terraform call")


def check_dependabot(errors):
    path = ROOT / ".github/dependabot.yml"
    if not path.is_file():
        errors.append(".github/dependabot.yml is missing")
        return
    kinds = {u["package-ecosystem"] for u in yaml.safe_load(path.read_text()).get("updates", [])}
    for kind in ("github-actions", "cargo", "terraform"):
        if kind not in kinds:
            errors.append(f".github/dependabot.yml: no updates for {kind}")


def main():
    errors = []
    workflows = sorted((ROOT / ".github/workflows").glob("*.y*ml"))
    if not workflows:
        errors.append("no workflows under .github/workflows")
    for path in workflows:
        check_workflow(path.relative_to(ROOT), path.read_text(), errors)
    check_dependabot(errors)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)
    print(f"workflows: {len(workflows)} checked, every action pinned by SHA, credentials seen by no action")


if __name__ == "__main__":
    main()
