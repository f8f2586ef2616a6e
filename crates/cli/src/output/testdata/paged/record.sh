#!/bin/bash
# Records list-pipelines over the three pages p1.json, p2.json, p3.json (served
# in sequence by the conformance mock server) with the real aws-cli/1.45.11:
# cases.tsv lines are: id, extra arguments. Writes <id>.stdout/.stderr/.rc.
# usage: PORT=19371 RESPONSES=/tmp/outlab/responses ./record.sh
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
PORT="${PORT:-19371}"; RESPONSES="${RESPONSES:?}"
AWS="$(pyenv which aws 2>/dev/null || command -v aws)"
python3 - "$HERE" "$RESPONSES/out_paged.json" <<'PY'
import base64, json, sys
here, dst = sys.argv[1:3]
pages = [{"status": 200, "body_b64": base64.b64encode(open(f"{here}/p{i}.json", "rb").read()).decode()} for i in (1, 2, 3)]
json.dump({"sequence": pages}, open(dst, "w"))
PY
grep -v '^#' "$HERE/cases.tsv" | while IFS=$'\t' read -r id args; do
  curl -sS "http://127.0.0.1:$PORT/__control/set?name=out_paged" >/dev/null
  eval "extra=($args)"
  env -i PATH="$PATH" HOME=/nonexistent LC_ALL=C.UTF-8 AWS_EC2_METADATA_DISABLED=true \
    AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY AWS_DEFAULT_REGION=us-east-1 \
    "$AWS" codepipeline list-pipelines --endpoint-url "http://127.0.0.1:$PORT" "${extra[@]}" \
    </dev/null >"$HERE/$id.stdout" 2>"$HERE/$id.stderr"
  echo $? >"$HERE/$id.rc"
done
