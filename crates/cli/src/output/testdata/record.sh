#!/bin/bash
# Re-records expected/<id>.{stdout,stderr,rc} for every line of e2e.tsv with the
# real AWS CLI v1 against the conformance mock server, which must be listening on
# $PORT and serve RESPONSES (a writable responses directory; bodies are sent as
# body_b64, a small extension of the mock to send bytes that are not UTF-8).
# usage: PORT=19371 RESPONSES=/tmp/outlab/responses ./record.sh
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
PORT="${PORT:-19371}"; RESPONSES="${RESPONSES:?}"
AWS="$(pyenv which aws 2>/dev/null || command -v aws)"
mkdir -p "$HERE/expected"
args_for() {
  case "$1" in
    GetJobDetails|PutJobSuccessResult) echo "--job-id x" ;;
    GetThirdPartyJobDetails) echo "--job-id x --client-token t" ;;
    PollForJobs) echo "--action-type-id category=Build,owner=Custom,provider=p,version=1" ;;
    GetPipelineState) echo "--name x" ;;
    *) echo "unknown operation $1" >&2; exit 2 ;;
  esac
}
grep -v '^#' "$HERE/e2e.tsv" | while IFS=$'\t' read -r id op body fmt color; do
  python3 - "$HERE/bodies/$body.json" "$RESPONSES/out_$body.json" <<'PY'
import base64, json, sys
json.dump({"status": 200, "body_b64": base64.b64encode(open(sys.argv[1], "rb").read()).decode()}, open(sys.argv[2], "w"))
PY
  curl -sS "http://127.0.0.1:$PORT/__control/set?name=out_$body" >/dev/null
  cli=$(python3 -c 'import re,sys; print(re.sub(r"(?<!^)(?=[A-Z])", "-", sys.argv[1]).lower())' "$op")
  env -i PATH="$PATH" HOME=/nonexistent LC_ALL=C.UTF-8 AWS_EC2_METADATA_DISABLED=true \
    AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY AWS_DEFAULT_REGION=us-east-1 \
    "$AWS" codepipeline "$cli" --endpoint-url "http://127.0.0.1:$PORT" $(args_for "$op") --output "$fmt" --color "$color" \
    </dev/null >"$HERE/expected/$id.stdout" 2>"$HERE/expected/$id.stderr"
  echo $? >"$HERE/expected/$id.rc"
done
