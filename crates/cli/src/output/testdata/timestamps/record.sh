#!/bin/bash
# Records get-pipeline-state on body.json with the real aws-cli/1.45.11:
# cli_timestamp_format = iso8601 under TZ=UTC and TZ=Europe/Berlin (text
# output), and the default (wire) with --v2-debug (stderr: the upgrade warnings).
# usage: PORT=19371 RESPONSES=/tmp/outlab/responses ./record.sh
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
PORT="${PORT:-19371}"; RESPONSES="${RESPONSES:?}"
AWS="$(pyenv which aws 2>/dev/null || command -v aws)"
HOME_ISO="$(mktemp -d)"; mkdir -p "$HOME_ISO/.aws"; printf '[default]\ncli_timestamp_format = iso8601\n' >"$HOME_ISO/.aws/config"
python3 -c 'import base64,json,sys; json.dump({"status":200,"body_b64":base64.b64encode(open(sys.argv[1],"rb").read()).decode()}, open(sys.argv[2],"w"))' "$HERE/body.json" "$RESPONSES/out_ts.json"
curl -sS "http://127.0.0.1:$PORT/__control/set?name=out_ts" >/dev/null
run() { # id home tz extra...
  local id=$1 home=$2 tz=$3; shift 3
  env -i PATH="$PATH" TZ="$tz" HOME="$home" LC_ALL=C.UTF-8 AWS_EC2_METADATA_DISABLED=true \
    AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY AWS_DEFAULT_REGION=us-east-1 \
    "$AWS" codepipeline get-pipeline-state --name x --endpoint-url "http://127.0.0.1:$PORT" "$@" \
    </dev/null >"$HERE/$id.stdout" 2>"$HERE/$id.stderr"
}
run iso_utc "$HOME_ISO" UTC --output text
run iso_berlin "$HOME_ISO" Europe/Berlin --output text
run wire_v2debug /nonexistent UTC --output text --v2-debug
rm -rf "$HOME_ISO"
