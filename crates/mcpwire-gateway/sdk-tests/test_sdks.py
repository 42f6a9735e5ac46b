"""The official OpenAI and Anthropic Python SDKs (versions pinned in requirements.txt), pointed at
an mcpwire gateway in front of `mcpwire sim` and a bearer-protected demo MCP server.

The SDK process gets only the gateway URL, its gateway key and the demo server's URL: never the
MCP token nor the vendor key. It writes a report (its environment and everything it received) to
$SDK_REPORT; the Rust test that runs it checks that no secret is in there.

Run by crates/mcpwire-gateway/tests/sdk.rs (`cargo xtask test` provides the virtualenv).
"""

import json
import os
import sys

import anthropic
import openai

GATEWAY = os.environ["GATEWAY_URL"]
KEY = os.environ["GATEWAY_KEY"]
DEMO = os.environ["DEMO_MCP_URL"]
received = []
checks = []


def check(name, ok, detail=""):
    checks.append(name)
    if not ok:
        raise AssertionError(f"{name}: {detail}")


def mcp_tool(approval="never"):
    # No authorization here: the gateway injects the MCP token.
    return {"type": "mcp", "server_label": "demo", "server_url": DEMO, "require_approval": approval}


def openai_tests():
    client = openai.OpenAI(api_key=KEY, base_url=f"{GATEWAY}/v1", max_retries=0)

    # Non-streamed, through the raw-response wrapper to keep the bytes received.
    raw = client.responses.with_raw_response.create(
        model="gpt-sim", input='call demo.add {"a":2,"b":3}', tools=[mcp_tool()]
    )
    received.append(raw.http_response.text)
    r = raw.parse()
    calls = [i for i in r.output if i.type == "mcp_call"]
    check("openai whole: mcp_call output", len(calls) == 1 and calls[0].output == "5", r.model_dump_json())
    check("openai whole: text", "demo.add returned 5" in r.output_text, r.output_text)

    # Streamed.
    kinds = []
    with client.responses.create(
        model="gpt-sim", input='call demo.echo {"text":"hi"}', tools=[mcp_tool()], stream=True
    ) as stream:
        for event in stream:
            kinds.append(event.type)
            received.append(event.model_dump_json())
    check("openai stream: mcp events", "response.mcp_call.completed" in kinds, kinds)
    check("openai stream: completed", kinds[-1] == "response.completed", kinds)

    # Approval round trip: the caller says "never", the tenant's floor requires approval for
    # `slow`; the app approves through the SDK and the call is made.
    first = client.responses.create(
        model="gpt-sim", input='call demo.slow {"ms":1}', tools=[mcp_tool()], store=True
    )
    received.append(first.model_dump_json())
    requests = [i for i in first.output if i.type == "mcp_approval_request"]
    check("openai approval: requested", len(requests) == 1, first.model_dump_json())
    second = client.responses.create(
        model="gpt-sim",
        previous_response_id=first.id,
        input=[{"type": "mcp_approval_response", "approval_request_id": requests[0].id, "approve": True}],
        tools=[mcp_tool()],
    )
    received.append(second.model_dump_json())
    calls = [i for i in second.output if i.type == "mcp_call"]
    check("openai approval: call made", len(calls) == 1 and calls[0].error is None, second.model_dump_json())

    # A server outside the tenant's allowlist: the SDK raises its usual error type.
    try:
        client.responses.create(
            model="gpt-sim", input="x",
            tools=[{"type": "mcp", "server_label": "evil", "server_url": "https://evil.example.net/mcp"}],
        )
        check("openai refusal", False, "no error")
    except openai.PermissionDeniedError as e:
        received.append(str(e.body))
        check("openai refusal", e.status_code == 403)

    # A wrong gateway key.
    bad = openai.OpenAI(api_key="gw-wrong", base_url=f"{GATEWAY}/v1", max_retries=0)
    try:
        bad.responses.create(model="gpt-sim", input="x")
        check("openai wrong key", False, "no error")
    except openai.AuthenticationError as e:
        check("openai wrong key", e.status_code == 401)


def anthropic_tests():
    client = anthropic.Anthropic(api_key=KEY, base_url=GATEWAY, max_retries=0)
    common = dict(
        model="claude-sim",
        max_tokens=256,
        mcp_servers=[{"type": "url", "url": DEMO, "name": "demo"}],
        tools=[{"type": "mcp_toolset", "mcp_server_name": "demo"}],
        betas=["mcp-client-2025-11-20"],
    )
    raw = client.beta.messages.with_raw_response.create(
        messages=[{"role": "user", "content": 'call demo.add {"a":1,"b":2}'}], **common
    )
    received.append(raw.http_response.text)
    m = raw.parse()
    results = [b for b in m.content if b.type == "mcp_tool_result"]
    check("anthropic whole: result", len(results) == 1 and not results[0].is_error, m.model_dump_json())

    kinds = []
    stream = client.beta.messages.create(
        messages=[{"role": "user", "content": 'call demo.echo {"text":"yo"}'}], stream=True, **common
    )
    for event in stream:
        kinds.append(event.type)
        received.append(event.model_dump_json())
    check("anthropic stream: events", kinds[0] == "message_start" and kinds[-1] == "message_stop", kinds)

    try:
        client.beta.messages.create(
            messages=[{"role": "user", "content": "x"}],
            **{**common, "mcp_servers": [{"type": "url", "url": "https://evil.example.net/mcp", "name": "demo"}]},
        )
        check("anthropic refusal", False, "no error")
    except anthropic.PermissionDeniedError as e:
        check("anthropic refusal", e.status_code == 403)


def budget_tests():
    # tokens_per_day = 1: the first answer spends it; then both SDKs raise their typed 429
    # with retry-after (hours away, so x-should-retry: false and no automatic retry).
    key = os.environ["BUDGET_KEY"]
    oa = openai.OpenAI(api_key=key, base_url=f"{GATEWAY}/v1", max_retries=0)
    oa.responses.create(model="gpt-sim", input="hello")
    try:
        oa.responses.create(model="gpt-sim", input="hello again")
        check("openai budget", False, "no error")
    except openai.RateLimitError as e:
        received.append(str(e.body))
        h = e.response.headers
        check("openai budget: 429", e.status_code == 429)
        check("openai budget: retry-after", int(h["retry-after"]) > 0, dict(h))
        check("openai budget: not retried", h["x-should-retry"] == "false", dict(h))
        check("openai budget: headers", h["x-ratelimit-limit-tokens"] == "1" and h["x-ratelimit-remaining-tokens"] == "0", dict(h))
        check("openai budget: type", e.body["type"] == "tokens" and e.code == "rate_limit_exceeded", e.body)
    an = anthropic.Anthropic(api_key=key, base_url=GATEWAY, max_retries=0)
    try:
        an.messages.create(model="claude-sim", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
        check("anthropic budget", False, "no error")
    except anthropic.RateLimitError as e:
        h = e.response.headers
        check("anthropic budget: 429", e.status_code == 429)
        check("anthropic budget: retry-after", int(h["retry-after"]) > 0, dict(h))
        check("anthropic budget: headers", h["anthropic-ratelimit-tokens-limit"] == "1", dict(h))


def users_tests(phase):
    # Per-user credentials: the app names its end user in x-mcpwire-user.
    report = {}

    def oa(user):
        return openai.OpenAI(api_key=KEY, base_url=f"{GATEWAY}/v1", max_retries=0,
                             default_headers={"x-mcpwire-user": user})

    def an(user):
        return anthropic.Anthropic(api_key=KEY, base_url=GATEWAY, max_retries=0,
                                   default_headers={"x-mcpwire-user": user})

    tool = {"type": "mcp", "server_label": "docs", "server_url": DEMO, "require_approval": "never"}
    common = dict(model="claude-sim", max_tokens=64, betas=["mcp-client-2025-11-20"],
                  mcp_servers=[{"type": "url", "url": DEMO, "name": "docs"}],
                  tools=[{"type": "mcp_toolset", "mcp_server_name": "docs"}])
    ask = 'call docs.echo {"text":"hi"}'
    if phase == "1":
        r = oa("alice").responses.create(model="gpt-sim", input=ask, tools=[tool])
        check("users: alice openai", any(i.type == "mcp_call" for i in r.output), r.model_dump_json())
        m = an("alice").beta.messages.create(messages=[{"role": "user", "content": ask}], **common)
        check("users: alice anthropic", any(b.type == "mcp_tool_result" for b in m.content), m.model_dump_json())
        try:
            oa("bob").responses.create(model="gpt-sim", input=ask, tools=[tool])
            check("users: bob openai refused", False, "no error")
        except openai.APIStatusError as e:
            # The OpenAI SDK unwraps `error`: the link is in the body it keeps.
            check("users: bob openai 424", e.status_code == 424, e.status_code)
            check("users: bob openai code", e.code == "mcp_authorization_required", e.body)
            report["bob_authorization_url"] = e.body["authorization_url"]
        try:
            an("bob").beta.messages.create(messages=[{"role": "user", "content": ask}], **common)
            check("users: bob anthropic refused", False, "no error")
        except anthropic.APIStatusError as e:
            check("users: bob anthropic 424", e.status_code == 424, e.status_code)
            err = e.body["error"]
            check("users: bob anthropic link", err["code"] == "mcp_authorization_required" and err["authorization_url"].startswith("http"), e.body)
    else:
        r = oa("bob").responses.create(model="gpt-sim", input=ask, tools=[tool])
        check("users: bob openai after connecting", any(i.type == "mcp_call" for i in r.output), r.model_dump_json())
        m = an("bob").beta.messages.create(messages=[{"role": "user", "content": ask}], **common)
        check("users: bob anthropic after connecting", any(b.type == "mcp_tool_result" for b in m.content), m.model_dump_json())
    return report


def main():
    phase = os.environ.get("SDK_USERS_PHASE")
    if phase:
        report = users_tests(phase)
        report["checks"] = checks
        with open(os.environ["SDK_REPORT"], "w") as f:
            json.dump(report, f)
        print(f"{len(checks)} passed, 0 failed")
        return
    openai_tests()
    anthropic_tests()
    budget_tests()
    with open(os.environ["SDK_REPORT"], "w") as f:
        json.dump({"env": dict(os.environ), "received": received, "checks": checks}, f)
    print(f"{len(checks)} passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
