//! End users proven by their own JWT (`[tenants.users] mode = "jwt"`): ES256, EdDSA and
//! RS256 accepted from the tenant's JWKS; a bad signature, the wrong audience or issuer, an
//! expired token, `alg: none`, HS256 keyed with the public key and an unknown `kid` are 401
//! in the vendor's shape; a rotated key is picked up (one refetch, at most once a minute).
//! And enterprise-managed authorization: the user's token exchanged for an ID-JAG and
//! redeemed at the MCP server's authorization server, with no browser.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::KeyPair as _;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const ISSUER: &str = "https://idp.example.com";
const AUDIENCE: &str = "mcpwire-app";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A signing key and its public JWK.
struct Key {
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn es256(kid: &str) -> Key {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    Key {
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..]),
                    "kid": kid, "alg": "ES256", "use": "sig"}),
    }
}

fn eddsa(kid: &str) -> Key {
    use ring::signature::Ed25519KeyPair;
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    Key {
        alg: Algorithm::EdDSA,
        encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref()),
                    "kid": kid, "alg": "EdDSA", "use": "sig"}),
    }
}

/// An RSA key from the machine's `openssl` (ring cannot generate RSA keys).
fn rs256(kid: &str) -> Key {
    let dir = tempdir();
    let pem = dir.join("rsa.pem");
    let der = dir.join("rsa.der");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl (Debian's openssl package) makes the RSA test key");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["genrsa", "-out", pem.to_str().unwrap(), "2048"]);
    run(&[
        "rsa",
        "-in",
        pem.to_str().unwrap(),
        "-traditional",
        "-outform",
        "DER",
        "-out",
        der.to_str().unwrap(),
    ]);
    let modulus = run(&["rsa", "-in", pem.to_str().unwrap(), "-noout", "-modulus"]);
    let hex = modulus.trim().trim_start_matches("Modulus=");
    let n: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    Key {
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(&std::fs::read(&der).unwrap()),
        jwk: json!({"kty": "RSA", "n": b64(&n), "e": "AQAB", "kid": kid, "alg": "RS256", "use": "sig"}),
    }
}

fn token(key: &Key, kid: &str, claims: Value) -> String {
    let mut h = Header::new(key.alg);
    h.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&h, &claims, &key.encoding).unwrap()
}

fn claims(sub: &str) -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "exp": now() + 600, "iat": now()})
}

/// The tenant's JWKS endpoint: its keys can change; it counts fetches.
#[derive(Clone)]
struct Jwks {
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
}

impl Respond for Jwks {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200).set_body_json(json!({"keys": *self.keys.lock().unwrap()}))
    }
}

async fn jwks_server(keys: Vec<Value>) -> (MockServer, Jwks) {
    let server = MockServer::start().await;
    let jwks = Jwks {
        keys: Arc::new(Mutex::new(keys)),
        fetches: Arc::new(AtomicUsize::new(0)),
    };
    Mock::given(wiremock::matchers::path("/jwks"))
        .respond_with(jwks.clone())
        .mount(&server)
        .await;
    (server, jwks)
}

fn config(upstream: &str, jwks: &str, mcp: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"

{openai}

[stores.users]
url = "memory:"

[[tenants]]
name = "team-a"
key_sha256 = ["{key}"]
users = {{ mode = "jwt", issuer = "{ISSUER}", audience = "{AUDIENCE}", jwks_url = "{jwks}/jwks" }}
{mcp}
"#,
        openai = openai_upstream(upstream),
        key = mcpwire_gateway::config::key_hash_hex(GATEWAY_KEY),
    )
}

async fn send(gw: &mcpwire_gateway::GatewayHandle, user_token: &str, body: &Value) -> (u16, Value) {
    let r = http()
        .post(format!("{}/v1/responses", gw.url()))
        .bearer_auth(GATEWAY_KEY)
        .header("x-mcpwire-user-token", user_token)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_tokens_are_verified_and_keys_rotate() {
    let upstream = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "resp_j", "object": "response"})),
        )
        .mount(&upstream)
        .await;
    let (k1, ed, rsa) = (es256("k1"), eddsa("ed1"), rs256("rsa1"));
    let (jwks, state) = jwks_server(vec![k1.jwk.clone(), ed.jwk.clone(), rsa.jwk.clone()]).await;
    let gw = start(&config(&upstream.uri(), &jwks.uri(), "")).await;
    let body = json!({"model": "m", "input": "hi"});

    for (key, kid) in [(&k1, "k1"), (&ed, "ed1"), (&rsa, "rsa1")] {
        let (s, b) = send(&gw, &token(key, kid, claims("alice")), &body).await;
        assert_eq!(s, 200, "{kid}: {b}");
    }
    assert_eq!(
        state.fetches.load(Ordering::SeqCst),
        1,
        "the JWKS is cached"
    );

    let other = es256("k1");
    let expired = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "exp": now() - 120});
    let payload = b64(claims("alice").to_string().as_bytes());
    let none = format!("{}.{payload}.", b64(br#"{"alg":"none","kid":"k1"}"#));
    let hs = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("k1".into());
        let public = k1.jwk.to_string();
        jsonwebtoken::encode(
            &h,
            &claims("alice"),
            &EncodingKey::from_secret(public.as_bytes()),
        )
        .unwrap()
    };
    let cases = [
        ("bad signature", token(&other, "k1", claims("alice"))),
        (
            "wrong audience",
            token(
                &k1,
                "k1",
                json!({"iss": ISSUER, "aud": "someone-else", "sub": "a", "exp": now() + 600}),
            ),
        ),
        (
            "wrong issuer",
            token(
                &k1,
                "k1",
                json!({"iss": "https://evil.example", "aud": AUDIENCE, "sub": "a", "exp": now() + 600}),
            ),
        ),
        ("expired", token(&k1, "k1", expired)),
        ("alg none", none),
        ("hs256 with the public key", hs),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (what, t) in cases {
        let (s, b) = send(&gw, &t, &body).await;
        assert_eq!(s, 401, "{what}: {b}");
        assert_eq!(b["error"]["code"], "invalid_api_key", "{what}: {b}");
        assert_eq!(b["error"]["param"], "x-mcpwire-user-token", "{what}: {b}");
    }
    // Within the 60 s skew an expired token still passes.
    let recent = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "exp": now() - 10});
    assert_eq!(send(&gw, &token(&k1, "k1", recent), &body).await.0, 200);
    // No token at all.
    let r = http()
        .post(format!("{}/v1/responses", gw.url()))
        .bearer_auth(GATEWAY_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Rotation: a new key is found with one refetch...
    let k2 = es256("k2");
    state.keys.lock().unwrap().push(k2.jwk.clone());
    assert_eq!(
        send(&gw, &token(&k2, "k2", claims("bob")), &body).await.0,
        200
    );
    assert_eq!(state.fetches.load(Ordering::SeqCst), 2);
    // ...and an unknown kid within the minute is refused without fetching again.
    let (s, b) = send(&gw, &token(&k2, "k9", claims("bob")), &body).await;
    assert_eq!(s, 401, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown kid"),
        "{b}"
    );
    assert_eq!(state.fetches.load(Ordering::SeqCst), 2);
    // Nothing of a token is in the upstream's requests.
    for r in upstream.received_requests().await.unwrap() {
        let text = String::from_utf8_lossy(&r.body).into_owned();
        assert!(!text.contains("eyJ"), "a user token went upstream");
        assert!(!r.headers.contains_key("x-mcpwire-user-token"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_jag_connects_a_jwt_user_without_a_browser() {
    let (auth, demo, sim) = oauth_demo_and_sim().await;
    let k1 = es256("k1");
    let (jwks, _) = jwks_server(vec![k1.jwk.clone()]).await;
    let mcp = format!(
        "\n[[tenants.mcp]]\nname = \"docs\"\nurl = \"{}\"\nauth = {{ id_jag = {{ idp_token_endpoint = \"{}/token\", client_id = \"gw-at-idp\", client_secret_env = \"GW_IDP_SECRET\" }} }}\n",
        demo.url(),
        auth.issuer
    );
    let text = config(&sim.base_url(), &jwks.uri(), &mcp);
    let gw = start_with(&text, &[("GW_IDP_SECRET", "idp-PLANTED-secret-5")]).await;
    let body = json!({"model": "gpt-sim", "input": "call docs.echo {\"text\":\"hi\"}",
        "tools": [{"type": "mcp", "server_label": "docs", "server_url": demo.url(), "require_approval": "never"}]});

    let (s, b) = send(&gw, &token(&k1, "k1", claims("alice")), &body).await;
    assert_eq!(s, 200, "{b}");
    assert!(
        demo.tokens_seen().iter().all(|t| t == "at-alice-jag"),
        "{:?}",
        demo.tokens_seen()
    );
    assert!(!demo.tokens_seen().is_empty());
    assert_eq!(auth.record().exchanges, 1);
    // The token is cached: a second request exchanges nothing.
    assert_eq!(
        send(&gw, &token(&k1, "k1", claims("alice")), &body).await.0,
        200
    );
    assert_eq!(auth.record().exchanges, 1);

    // A user the IdP will not let use the server: a clear 424 naming the IdP's error.
    let (s, b) = send(&gw, &token(&k1, "k1", claims("refuse-bob")), &body).await;
    assert_eq!(s, 424, "{b}");
    assert_eq!(b["error"]["code"], "mcp_token_exchange_failed", "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("access_denied"),
        "{b}"
    );
    assert_eq!(auth.record().refused_exchanges, 1);
}
