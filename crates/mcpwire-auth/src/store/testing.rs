//! A conformance suite for [`TokenStore`] implementations (feature `testing`).
//!
//! ```no_run
//! # async fn demo() {
//! // In a test of your own store (`MyStore` here is the crate's `MemoryStore`):
//! # use mcpwire_auth::MemoryStore as MyStore;
//! mcpwire_auth::testing::check_store(std::sync::Arc::new(MyStore::new())).await;
//! # }
//! ```
//!
//! Every check uses keys of its own (random suffix), so one store, even a shared one, can run
//! the suite several times. A failed check panics with a message naming it.

#![allow(clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use super::{
    CasOutcome, ClientRecord, Entry, EntryKey, RegistrationKind, TokenEntry, TokenStore, Version,
    Versioned,
};
use crate::secret::Secret;
use crate::token::AuthMethod;

fn unique(name: &str) -> String {
    format!(
        "https://mcp.example.com/{name}/{:016x}/ünï code:colon space",
        rand::random::<u64>()
    )
}

/// A token entry for `server_url` with every field set; `tag` goes into the token values.
pub fn sample_token(server_url: &str, tag: &str) -> TokenEntry {
    TokenEntry {
        server_url: server_url.to_owned(),
        resource: server_url.to_owned(),
        issuer: "https://as.example.com".into(),
        client_id: "client-1".into(),
        token_endpoint: "https://as.example.com/token".into(),
        access_token: Secret::new(format!("AT-{tag}")),
        refresh_token: Some(Secret::new(format!("RT-{tag}"))),
        expires_at: Some(4_000_000_000),
        scope: Some("read write".into()),
        token_type: "Bearer".into(),
        client_credentials: false,
        dpop_key: None,
        auth_method: Some(AuthMethod::ClientSecretPost),
        issued_at: Some(3_999_996_400),
        login_required: false,
        subject: None,
    }
}

/// A client record for `issuer`.
pub fn sample_client(issuer: &str) -> ClientRecord {
    ClientRecord {
        issuer: issuer.to_owned(),
        client_id: "client-1".into(),
        client_secret: Some(Secret::new("client-secret-1")),
        auth_method: AuthMethod::ClientSecretPost,
        redirect_uris: vec!["http://127.0.0.1:1234/callback".into()],
        kind: RegistrationKind::Dynamic,
    }
}

fn at(v: &Option<Versioned>) -> Option<String> {
    v.as_ref()
        .and_then(|v| v.entry.as_token())
        .map(|t| t.access_token.expose().to_owned())
}

fn must<T>(what: &str, r: crate::Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("store check `{what}`: store error: {e}"),
    }
}

async fn create(store: &dyn TokenStore, entry: &Entry) -> Version {
    match must(
        "create",
        store.compare_and_set(&entry.key(), None, Some(entry)).await,
    ) {
        CasOutcome::Written(Some(v)) => v,
        other => panic!("store check `create`: expected a new version, got {other:?}"),
    }
}

/// Runs every check against `store`; panics on the first failure. Takes about two seconds
/// (lease expiry and waits use real time).
pub async fn check_store(store: Arc<dyn TokenStore>) {
    roundtrip(&*store).await;
    compare_and_set(&*store).await;
    delete_never_reuses_versions(&*store).await;
    list_sees_both_kinds(&*store).await;
    one_concurrent_writer_wins(store.clone()).await;
    lease_exclusive_and_owned(&*store).await;
    lease_expires(&*store).await;
    waiters_see_changes(store.clone()).await;
    subjects_are_separate(&*store).await;
}

/// One server's tokens for several end users (and for nobody): each its own entry, version
/// and lease; writing, deleting or leasing one never touches another.
async fn subjects_are_separate(store: &dyn TokenStore) {
    let url = unique("subjects");
    let own = EntryKey::token(&url);
    let alice = EntryKey::user_token(&url, "team-a:alice");
    // A subject with the characters a storage key uses.
    let bob = EntryKey::user_token(&url, "team-a:bob:%x y");
    for (key, tag) in [(&own, "own"), (&alice, "alice"), (&bob, "bob")] {
        let mut t = sample_token(&url, tag);
        if let EntryKey::Token { subject, .. } = key {
            t.subject.clone_from(subject);
        }
        let entry = Entry::Token(t);
        assert!(
            &entry.key() == key,
            "store check `subjects`: an entry's key lost its subject"
        );
        create(store, &entry).await;
    }
    for (key, tag) in [(&own, "own"), (&alice, "alice"), (&bob, "bob")] {
        let got = must("get subject", store.get(key).await);
        assert_eq!(
            at(&got).as_deref(),
            Some(format!("AT-{tag}").as_str()),
            "store check `subjects`: {tag}'s entry reads as another's"
        );
        assert_eq!(
            EntryKey::from_storage_key(&key.storage_key()).as_ref(),
            Some(key),
            "store check `subjects`: the storage key does not round-trip"
        );
    }
    let listed = must("list", store.list().await);
    let mine = listed
        .iter()
        .filter(|v| v.entry.as_token().is_some_and(|t| t.server_url == url))
        .count();
    assert_eq!(
        mine, 3,
        "store check `subjects`: list does not show each user's entry"
    );
    let lease = must(
        "lease alice",
        store
            .try_acquire_lease(&alice, Duration::from_secs(5))
            .await,
    );
    assert!(lease.is_some(), "store check `subjects`: lease not granted");
    let other = must(
        "lease bob",
        store.try_acquire_lease(&bob, Duration::from_secs(5)).await,
    );
    assert!(
        other.is_some(),
        "store check `subjects`: one user's refresh lease blocks another's"
    );
    let v = must("get alice", store.get(&alice).await).map(|v| v.version);
    must("delete alice", store.compare_and_set(&alice, v, None).await);
    assert!(must("get alice", store.get(&alice).await).is_none());
    assert_eq!(
        at(&must("get bob", store.get(&bob).await)).as_deref(),
        Some("AT-bob"),
        "store check `subjects`: deleting one user's tokens deleted another's"
    );
    assert!(must("get own", store.get(&own).await).is_some());
    for l in [lease, other].into_iter().flatten() {
        must("release", store.release_lease(&l).await);
    }
}

async fn roundtrip(store: &dyn TokenStore) {
    let url = unique("roundtrip");
    let key = EntryKey::token(&url);
    assert!(
        must("get absent", store.get(&key).await).is_none(),
        "store check `roundtrip`: a never-written key reads as present"
    );
    let entry = Entry::Token(sample_token(&url, "1"));
    let v = create(store, &entry).await;
    let got = must("get", store.get(&key).await);
    let Some(got) = got else {
        panic!("store check `roundtrip`: written entry reads as absent")
    };
    assert_eq!(got.version, v, "store check `roundtrip`: version differs");
    let (a, b) = (
        must("json", entry.to_json()),
        must("json", got.entry.to_json()),
    );
    assert!(
        a == b,
        "store check `roundtrip`: the entry read back differs from the one written"
    );
    let issuer = unique("issuer");
    let client = Entry::Client(sample_client(&issuer));
    create(store, &client).await;
    let got = must("get client", store.get(&EntryKey::client(&issuer)).await);
    let same = got
        .and_then(|g| g.entry.as_client().cloned())
        .and_then(|c| c.client_secret)
        .is_some_and(|s| s.expose() == "client-secret-1");
    assert!(
        same,
        "store check `roundtrip`: client record lost its secret"
    );
}

async fn compare_and_set(store: &dyn TokenStore) {
    let url = unique("cas");
    let key = EntryKey::token(&url);
    let v1 = create(store, &Entry::Token(sample_token(&url, "1"))).await;
    let again = must(
        "create twice",
        store
            .compare_and_set(&key, None, Some(&Entry::Token(sample_token(&url, "x"))))
            .await,
    );
    assert_eq!(
        again,
        CasOutcome::Conflict,
        "store check `cas`: create over an existing entry must conflict"
    );
    let e2 = Entry::Token(sample_token(&url, "2"));
    let v2 = match must(
        "update",
        store.compare_and_set(&key, Some(v1), Some(&e2)).await,
    ) {
        CasOutcome::Written(Some(v)) => v,
        other => panic!("store check `cas`: update at the current version gave {other:?}"),
    };
    assert_ne!(
        v1, v2,
        "store check `cas`: an update must change the version"
    );
    let stale = must(
        "stale update",
        store
            .compare_and_set(&key, Some(v1), Some(&Entry::Token(sample_token(&url, "3"))))
            .await,
    );
    assert_eq!(
        stale,
        CasOutcome::Conflict,
        "store check `cas`: a stale version must conflict"
    );
    let now = must("get", store.get(&key).await);
    assert_eq!(
        at(&now).as_deref(),
        Some("AT-2"),
        "store check `cas`: a conflicting write changed the entry"
    );
}

async fn delete_never_reuses_versions(store: &dyn TokenStore) {
    let url = unique("delete");
    let key = EntryKey::token(&url);
    let v1 = create(store, &Entry::Token(sample_token(&url, "1"))).await;
    let del = must("delete", store.compare_and_set(&key, Some(v1), None).await);
    assert_eq!(
        del,
        CasOutcome::Written(None),
        "store check `delete`: delete at the current version failed"
    );
    assert!(
        must("get", store.get(&key).await).is_none(),
        "store check `delete`: deleted entry still reads"
    );
    let v2 = create(store, &Entry::Token(sample_token(&url, "2"))).await;
    assert_ne!(
        v1, v2,
        "store check `delete`: a recreated entry reused an old version"
    );
    let stale = must(
        "stale after recreate",
        store
            .compare_and_set(&key, Some(v1), Some(&Entry::Token(sample_token(&url, "3"))))
            .await,
    );
    assert_eq!(
        stale,
        CasOutcome::Conflict,
        "store check `delete`: a version from before the delete must conflict"
    );
}

async fn list_sees_both_kinds(store: &dyn TokenStore) {
    let url = unique("list");
    let issuer = unique("list-issuer");
    create(store, &Entry::Token(sample_token(&url, "1"))).await;
    create(store, &Entry::Client(sample_client(&issuer))).await;
    let all = must("list", store.list().await);
    let keys: Vec<EntryKey> = all.iter().map(|v| v.entry.key()).collect();
    assert!(
        keys.contains(&EntryKey::token(&url)) && keys.contains(&EntryKey::client(&issuer)),
        "store check `list`: an entry written is missing from the list"
    );
}

async fn one_concurrent_writer_wins(store: Arc<dyn TokenStore>) {
    let url = unique("race");
    let key = EntryKey::token(&url);
    let v = create(&*store, &Entry::Token(sample_token(&url, "0"))).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        let key = key.clone();
        let e = Entry::Token(sample_token(&url, &format!("w{i}")));
        tasks.push(tokio::spawn(async move {
            store.compare_and_set(&key, Some(v), Some(&e)).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await {
            Ok(Ok(CasOutcome::Written(_))) => won += 1,
            Ok(Ok(CasOutcome::Conflict)) => {}
            Ok(Err(e)) => panic!("store check `race`: store error: {e}"),
            Err(e) => panic!("store check `race`: task failed: {e}"),
        }
    }
    assert_eq!(
        won, 1,
        "store check `race`: 16 writers from one version, exactly one may win"
    );
}

async fn lease_exclusive_and_owned(store: &dyn TokenStore) {
    let key = EntryKey::token(unique("lease"));
    let ttl = Duration::from_secs(30);
    let Some(lease) = must("acquire", store.try_acquire_lease(&key, ttl).await) else {
        panic!("store check `lease`: a free lease could not be taken")
    };
    assert!(
        must("acquire held", store.try_acquire_lease(&key, ttl).await).is_none(),
        "store check `lease`: a held lease was taken twice"
    );
    let other = EntryKey::token(unique("lease-other"));
    let Some(other_lease) = must("acquire other", store.try_acquire_lease(&other, ttl).await)
    else {
        panic!("store check `lease`: a lease on one key blocked another key")
    };
    let mut forged = lease.clone();
    forged.holder = "someone-else".into();
    assert!(
        !must("forged release", store.release_lease(&forged).await),
        "store check `lease`: a release by another holder succeeded"
    );
    assert!(
        must(
            "acquire after forged",
            store.try_acquire_lease(&key, ttl).await
        )
        .is_none(),
        "store check `lease`: a release by another holder freed the lease"
    );
    assert!(
        must("release", store.release_lease(&lease).await),
        "store check `lease`: the holder could not release its lease"
    );
    let Some(again) = must("reacquire", store.try_acquire_lease(&key, ttl).await) else {
        panic!("store check `lease`: a released lease could not be taken again")
    };
    must("release again", store.release_lease(&again).await);
    must("release other", store.release_lease(&other_lease).await);
}

async fn lease_expires(store: &dyn TokenStore) {
    let key = EntryKey::token(unique("lease-expiry"));
    let short = Duration::from_millis(300);
    let Some(dead) = must("acquire", store.try_acquire_lease(&key, short).await) else {
        panic!("store check `lease expiry`: a free lease could not be taken")
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    let Some(next) = must(
        "acquire after expiry",
        store.try_acquire_lease(&key, Duration::from_secs(30)).await,
    ) else {
        panic!("store check `lease expiry`: an expired lease was never freed")
    };
    assert!(
        !must("late release", store.release_lease(&dead).await),
        "store check `lease expiry`: a holder whose lease expired released the next holder's"
    );
    assert!(
        must(
            "acquire while next holds",
            store.try_acquire_lease(&key, short).await
        )
        .is_none(),
        "store check `lease expiry`: a late release by the old holder freed the new lease"
    );
    must("release", store.release_lease(&next).await);
}

async fn waiters_see_changes(store: Arc<dyn TokenStore>) {
    let url = unique("wait");
    let key = EntryKey::token(&url);
    let v1 = create(&*store, &Entry::Token(sample_token(&url, "1"))).await;
    let quiet = must(
        "wait without change",
        store
            .wait_for_change(&key, Some(v1), Duration::from_millis(200))
            .await,
    );
    assert_eq!(
        quiet.map(|v| v.version),
        Some(v1),
        "store check `wait`: a wait without a change must return the unchanged entry"
    );
    let writer = {
        let store = store.clone();
        let key = key.clone();
        let e = Entry::Token(sample_token(&url, "2"));
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            store.compare_and_set(&key, Some(v1), Some(&e)).await
        })
    };
    let seen = must(
        "wait for change",
        store
            .wait_for_change(&key, Some(v1), Duration::from_secs(5))
            .await,
    );
    assert_eq!(
        at(&seen).as_deref(),
        Some("AT-2"),
        "store check `wait`: a waiter did not see the new entry"
    );
    match writer.await {
        Ok(Ok(CasOutcome::Written(_))) => {}
        other => panic!("store check `wait`: writer failed: {other:?}"),
    }
}
