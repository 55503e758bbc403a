#!/usr/bin/env bash
# Send one text message to the local bot as the WeChat platform would (plaintext mode), print the reply.
# Usage: scripts/say.sh OPENID "message"   (uses WECHAT_TOKEN and RASA_URL, with the .env.example defaults)
set -euo pipefail
openid=${1:?usage: scripts/say.sh OPENID "message"}
text=${2:?usage: scripts/say.sh OPENID "message"}
token=${WECHAT_TOKEN:-dev-wechat-token}
rasa=${RASA_URL:-http://127.0.0.1:5005}
ts=$(date +%s)
nonce=$RANDOM
msg_id="$ts$RANDOM"
sig=$(printf '%s\n' "$token" "$ts" "$nonce" | sort | tr -d '\n' | sha1sum | cut -d' ' -f1)
curl -sS "$rasa/webhooks/wechat/webhook?signature=$sig&timestamp=$ts&nonce=$nonce&openid=$openid" \
  -H 'Content-Type: text/xml' --data-binary @- <<XML
<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[$openid]]></FromUserName>
<CreateTime>$ts</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[$text]]></Content>
<MsgId>$msg_id</MsgId></xml>
XML
echo
