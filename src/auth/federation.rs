// SPDX-License-Identifier: MPL-2.0
//! Session tokens shared by the token-based methods (instance principal, resource principal,
//! OKE workload identity): the token cache with its single-flight refresh (claims read by [`jwt`](super::jwt)),
//! and the background task that refreshes before expiry so requests never wait on it.
//!
//! A [`TokenSource`] knows how to obtain one token (and the RSA key it is bound to);
//! [`SessionTokenProvider`] turns any source into a [`CredentialProvider`]:
//! - the first call fetches a token; later calls return the cached one without waiting;
//! - a background task refreshes when `exp - margin` is reached, the margin being
//!   `min(5 min, lifetime / 2)` (the SDKs' 5 minutes, and their half-life rule for workload
//!   identity tokens) so that tokens living only seconds work too, even on a loaded host;
//! - only a caller holding an *expired* token waits, for a refresh already under way if any;
//! - concurrent refresh requests share one fetch (single flight), its failure included;
//! - after a 401 the stale token is replaced once, however many callers report it.

use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::auth::jwt::{parse_jwt_claims, JwtClaims};
use crate::auth::{CredentialProvider, Credentials, PrincipalType};
use crate::error::{Error, ErrorCode, Result};

/// The most a token is refreshed ahead of its expiry (the OCI SDKs' buffer).
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// First wait before retrying a failed background refresh; doubles up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);
/// Longest wait between background refresh retries.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// When to refresh a token valid from `start` until `expires_at`: `min(5 min, lifetime / 2)`
/// before its expiry.
pub fn refresh_time(start: SystemTime, expires_at: SystemTime) -> SystemTime {
    let lifetime = expires_at.duration_since(start).unwrap_or(Duration::ZERO);
    expires_at - MAX_REFRESH_MARGIN.min(lifetime / 2)
}

/// One token from a [`TokenSource`] and the key its requests are signed with.
pub struct SessionToken {
    /// The JWT (without the `ST$` prefix).
    pub token: Zeroizing<String>,
    /// The session private key the token is bound to.
    pub key: Arc<aws_lc_rs::rsa::KeyPair>,
    /// The token's claims (see [`parse_jwt_claims`]).
    pub claims: JwtClaims,
}

impl SessionToken {
    /// Bundles a token with its key, reading its claims.
    pub fn new(token: Zeroizing<String>, key: Arc<aws_lc_rs::rsa::KeyPair>) -> Result<Self> {
        let claims = parse_jwt_claims(&token)?;
        Ok(SessionToken { token, key, claims })
    }

    /// Whether the key is the one the token is bound to (true when the token does not say).
    pub fn key_matches(&self) -> bool {
        let public = aws_lc_rs::signature::KeyPair::public_key(self.key.as_ref());
        self.claims
            .session_key_modulus
            .as_ref()
            .is_none_or(|n| n.as_slice() == public.modulus().big_endian_without_leading_zero())
    }
}

/// Somewhere session tokens come from: the federation service, a token file, the OKE proxymux.
#[async_trait]
pub trait TokenSource: Send + Sync + 'static {
    /// Obtains a new token (re-reading whatever may have rotated: certificates, files...).
    async fn fetch(&self) -> Result<SessionToken>;

    /// Whether [`fetch`](Self::fetch) can ever return a different token (false for a token given
    /// literally in the environment): no background refresh is run otherwise.
    fn refreshable(&self) -> bool {
        true
    }

    /// Prepares what the next [`fetch`](Self::fetch) needs (such as its session key); called by
    /// the background refresh after each new token. Best effort: `fetch` must work without it.
    async fn prepare_next(&self) {}

    /// The principal kind, for the seal metadata.
    fn principal_type(&self) -> PrincipalType;

    /// Operator-safe description of the principal (no secrets).
    fn describe(&self) -> String;
}

/// A cached token, ready to sign with.
struct Cached {
    credentials: Arc<Credentials>,
    expires_at: SystemTime,
    refresh_at: SystemTime,
    tenant: Option<String>,
}

/// What the cache holds; `attempts` counts finished fetches (success or failure).
#[derive(Default)]
struct State {
    current: Option<Arc<Cached>>,
    attempts: u64,
    last_error: Option<Error>,
}

/// The shared part of a provider, also reachable (weakly) by its background task.
struct Inner<S> {
    source: S,
    state: RwLock<State>,
    refresh_lock: tokio::sync::Mutex<()>,
}

impl<S: TokenSource> Inner<S> {
    fn snapshot(&self) -> (Option<Arc<Cached>>, u64) {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        (state.current.clone(), state.attempts)
    }

    /// Fetches a new token unless a fetch finished since the caller saw `seen_attempts`, in which
    /// case that fetch's outcome is returned: one fetch serves every concurrent caller.
    async fn refresh(&self, seen_attempts: u64) -> Result<Arc<Cached>> {
        let _flight = self.refresh_lock.lock().await;
        {
            let state = self.state.read().unwrap_or_else(|p| p.into_inner());
            if state.attempts != seen_attempts {
                return match (&state.last_error, &state.current) {
                    (None, Some(current)) => Ok(current.clone()),
                    (Some(err), _) => Err(err.clone()),
                    (None, None) => {
                        Err(Error::internal("session token cache is empty after a refresh"))
                    }
                };
            }
        }
        let outcome = self.fetch_checked().await;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.attempts += 1;
        match outcome {
            Ok(cached) => {
                state.current = Some(cached.clone());
                state.last_error = None;
                Ok(cached)
            }
            Err(err) => {
                state.last_error = Some(err.clone());
                Err(err)
            }
        }
    }

    /// One fetch, rejecting tokens that are already expired.
    async fn fetch_checked(&self) -> Result<Arc<Cached>> {
        let token = self.source.fetch().await?;
        if !token.key_matches() {
            return Err(Error::new(
                ErrorCode::NotAuthenticated,
                format!(
                    "the session token obtained for the {} is bound to another key than the one \
                     it came with (its `jwk` claim names a different public key)",
                    self.source.describe()
                ),
            ));
        }
        let now = SystemTime::now();
        let claims = &token.claims;
        if claims.expires_at <= now {
            return Err(Error::new(
                ErrorCode::NotAuthenticated,
                format!(
                    "the session token obtained for the {} is already expired (exp {}); make sure \
                     the token source is being renewed and the system clock is right",
                    self.source.describe(),
                    httpdate::fmt_http_date(claims.expires_at)
                ),
            ));
        }
        let start = claims.issued_at.filter(|iat| *iat <= now).unwrap_or(now);
        Ok(Arc::new(Cached {
            credentials: Arc::new(Credentials::session(&token.token, token.key)),
            expires_at: claims.expires_at,
            refresh_at: refresh_time(start, claims.expires_at),
            tenant: claims.tenant.clone(),
        }))
    }

    /// How long the background task sleeps before its next refresh attempt.
    fn next_delay(&self, failures: u32) -> Duration {
        let retry = FIRST_RETRY_DELAY.saturating_mul(1 << failures.min(8)).min(MAX_RETRY_DELAY);
        let (current, _) = self.snapshot();
        let until_due = current.and_then(|c| c.refresh_at.duration_since(SystemTime::now()).ok());
        match until_due {
            Some(wait) if failures == 0 && !wait.is_zero() => wait,
            _ => retry,
        }
    }

    /// Whether the cached token has reached its refresh time.
    fn due(&self) -> bool {
        let (current, _) = self.snapshot();
        current.is_none_or(|c| c.refresh_at <= SystemTime::now())
    }
}

/// Refreshes the token of `inner` ahead of expiry until the provider is dropped.
async fn refresh_in_background<S: TokenSource>(inner: Weak<Inner<S>>) {
    let mut failures: u32 = 0;
    loop {
        let delay = match inner.upgrade() {
            Some(inner) => inner.next_delay(failures),
            None => return,
        };
        tokio::time::sleep(delay).await;
        let Some(inner) = inner.upgrade() else { return };
        if !inner.due() {
            failures = 0;
            continue;
        }
        let (_, seen) = inner.snapshot();
        match inner.refresh(seen).await {
            Ok(_) => {
                failures = 0;
                inner.source.prepare_next().await;
            }
            Err(_) => failures = failures.saturating_add(1),
        }
    }
}

/// A [`CredentialProvider`] over a [`TokenSource`]: caches its token, refreshes it in the
/// background before expiry, single-flight (see the module docs).
pub struct SessionTokenProvider<S: TokenSource> {
    inner: Arc<Inner<S>>,
    background: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl<S: TokenSource> SessionTokenProvider<S> {
    /// A provider over `source`; nothing is fetched until the first request.
    pub fn new(source: S) -> Self {
        SessionTokenProvider {
            inner: Arc::new(Inner {
                source,
                state: RwLock::default(),
                refresh_lock: tokio::sync::Mutex::new(()),
            }),
            background: Mutex::new(None),
        }
    }

    /// The token source (for its description and tests).
    pub fn source(&self) -> &S {
        &self.inner.source
    }

    /// Starts the background refresh task once, when running inside a tokio runtime.
    fn ensure_background(&self) {
        if !self.inner.source.refreshable() {
            return;
        }
        let mut task = self.background.lock().unwrap_or_else(|p| p.into_inner());
        if task.as_ref().is_none_or(|t| t.is_finished()) {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                *task = Some(runtime.spawn(refresh_in_background(Arc::downgrade(&self.inner))));
            }
        }
    }

    /// The error for a token that expired and could not be replaced.
    fn expired_error(&self, expired_at: SystemTime, cause: Error) -> Error {
        Error::new(
            ErrorCode::NotAuthenticated,
            format!(
                "the session token of the {} expired at {} and could not be refreshed: {}",
                self.inner.source.describe(),
                httpdate::fmt_http_date(expired_at),
                cause.message()
            ),
        )
        .retryable(cause.is_retryable())
    }
}

impl<S: TokenSource> Drop for SessionTokenProvider<S> {
    fn drop(&mut self) {
        if let Some(task) = self.background.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }
}

#[async_trait]
impl<S: TokenSource> CredentialProvider for SessionTokenProvider<S> {
    async fn credentials(&self) -> Result<Arc<Credentials>> {
        let (current, seen) = self.inner.snapshot();
        if let Some(cached) = &current {
            if SystemTime::now() < cached.expires_at {
                return Ok(cached.credentials.clone());
            }
        }
        match self.inner.refresh(seen).await {
            Ok(fresh) => {
                self.ensure_background();
                Ok(fresh.credentials.clone())
            }
            Err(err) => Err(match current {
                Some(expired) => self.expired_error(expired.expires_at, err),
                None => err,
            }),
        }
    }

    async fn refresh_after_unauthorized(&self, stale: &Credentials) -> bool {
        let (current, seen) = self.inner.snapshot();
        if let Some(cached) = current {
            if !std::ptr::eq(Arc::as_ptr(&cached.credentials), stale) {
                return true;
            }
        }
        self.inner.source.refreshable() && self.inner.refresh(seen).await.is_ok()
    }

    fn principal_type(&self) -> PrincipalType {
        self.inner.source.principal_type()
    }

    fn describe(&self) -> String {
        let (current, _) = self.inner.snapshot();
        match current.and_then(|c| c.tenant.clone()) {
            Some(tenant) => format!("{} in tenancy {tenant}", self.inner.source.describe()),
            None => self.inner.source.describe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jwt::test_jwt;
    use base64::Engine as _;
    use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
    use std::time::UNIX_EPOCH;

    #[test]
    fn the_jwk_claim_binds_the_token_to_its_key() {
        let key =
            Arc::new(aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap());
        let other =
            Arc::new(aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap());
        let public = aws_lc_rs::signature::KeyPair::public_key(key.as_ref());
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(public.modulus().big_endian_without_leading_zero());
        // OCI puts the JWK in as a JSON string; an object is accepted too.
        let as_string = serde_json::json!({"kty": "RSA", "n": n, "e": "AQAB"}).to_string();
        for jwk in [serde_json::Value::String(as_string), serde_json::json!({"n": n})] {
            let token =
                Zeroizing::new(test_jwt(&serde_json::json!({"exp": 2000000000, "jwk": jwk})));
            assert!(SessionToken::new(token.clone(), key.clone()).unwrap().key_matches());
            assert!(!SessionToken::new(token, other.clone()).unwrap().key_matches());
        }
        let unbound = Zeroizing::new(test_jwt(&serde_json::json!({"exp": 2000000000})));
        assert!(SessionToken::new(unbound, other).unwrap().key_matches());
    }

    #[test]
    fn refresh_margin_scales_with_lifetime() {
        let start = UNIX_EPOCH + Duration::from_secs(1000);
        let hour = start + Duration::from_secs(3600);
        assert_eq!(refresh_time(start, hour), hour - Duration::from_secs(300));
        let three_secs = start + Duration::from_secs(3);
        assert_eq!(refresh_time(start, three_secs), start + Duration::from_millis(1500));
        assert_eq!(refresh_time(three_secs, start), start);
    }

    /// A source handing out tokens of `lifetime`, counting fetches, failing on demand.
    struct FakeSource {
        lifetime: Duration,
        fetches: AtomicU64,
        fail: AtomicU32,
        delay: Duration,
        /// Each fetch needs a permit: a test holds them all to hold fetches back.
        gate: tokio::sync::Semaphore,
        key: Arc<aws_lc_rs::rsa::KeyPair>,
    }

    /// Permits of an open [`FakeSource`] gate.
    const GATE_PERMITS: u32 = 1000;

    impl FakeSource {
        fn new(lifetime: Duration, delay: Duration) -> Self {
            FakeSource {
                lifetime,
                fetches: AtomicU64::new(0),
                fail: AtomicU32::new(0),
                delay,
                gate: tokio::sync::Semaphore::new(GATE_PERMITS as usize),
                key: Arc::new(
                    aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap(),
                ),
            }
        }
    }

    #[async_trait]
    impl TokenSource for FakeSource {
        async fn fetch(&self) -> Result<SessionToken> {
            let _open = self.gate.acquire().await.unwrap();
            tokio::time::sleep(self.delay).await;
            let n = self.fetches.fetch_add(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) > 0 {
                return Err(Error::new(ErrorCode::Network, "federation endpoint down"));
            }
            let now = SystemTime::now();
            let exp = (now + self.lifetime).duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
            let token = test_jwt(&serde_json::json!({"exp": exp, "n": n}));
            SessionToken::new(Zeroizing::new(token), self.key.clone())
        }
        fn principal_type(&self) -> PrincipalType {
            PrincipalType::Instance
        }
        fn describe(&self) -> String {
            "fake principal".into()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_callers_share_one_fetch() {
        let provider = Arc::new(SessionTokenProvider::new(FakeSource::new(
            Duration::from_secs(3600),
            Duration::from_millis(50),
        )));
        let calls: Vec<_> = (0..32)
            .map(|_| {
                let p = provider.clone();
                tokio::spawn(async move { p.credentials().await.map(|c| c.key_id.clone()) })
            })
            .collect();
        let mut ids = Vec::new();
        for call in calls {
            ids.push(call.await.unwrap().unwrap());
        }
        assert_eq!(provider.source().fetches.load(Ordering::SeqCst), 1);
        assert!(ids.iter().all(|id| id == &ids[0] && id.starts_with("ST$")));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn background_refresh_replaces_the_token_once_without_blocking_callers() {
        // 4 s tokens: the background refresh starts 2 s into the token's life.
        let provider =
            SessionTokenProvider::new(FakeSource::new(Duration::from_secs(4), Duration::ZERO));
        let first = provider.credentials().await.unwrap().key_id.clone();
        // Hold the refresh back once it starts: callers must keep getting the current token.
        let held = provider.source().gate.acquire_many(GATE_PERMITS).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2300)).await;
        for _ in 0..10 {
            let call = tokio::time::timeout(Duration::from_secs(1), provider.credentials());
            let credentials = call.await.expect("a caller waited for the refresh").unwrap();
            assert_eq!(credentials.key_id, first);
        }
        drop(held);
        let waiting = std::time::Instant::now();
        while provider.credentials().await.unwrap().key_id == first {
            assert!(waiting.elapsed() < Duration::from_secs(5), "the refresh never completed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // One fetch for the first token, one background refresh; none from the callers.
        assert_eq!(provider.source().fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unauthorized_refreshes_once_for_many_reporters() {
        let provider = Arc::new(SessionTokenProvider::new(FakeSource::new(
            Duration::from_secs(3600),
            Duration::from_millis(30),
        )));
        let stale = provider.credentials().await.unwrap();
        let reports: Vec<_> = (0..16)
            .map(|_| {
                let (p, s) = (provider.clone(), stale.clone());
                tokio::spawn(async move { p.refresh_after_unauthorized(&s).await })
            })
            .collect();
        for report in reports {
            assert!(report.await.unwrap());
        }
        assert_eq!(provider.source().fetches.load(Ordering::SeqCst), 2);
        assert_ne!(provider.credentials().await.unwrap().key_id, stale.key_id);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn expired_token_that_cannot_be_refreshed_is_a_clear_error() {
        let provider =
            SessionTokenProvider::new(FakeSource::new(Duration::from_millis(1500), Duration::ZERO));
        provider.credentials().await.unwrap();
        provider.source().fail.store(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1600)).await;
        let err = provider.credentials().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotAuthenticated);
        assert!(
            err.message().contains("session token of the fake principal expired at"),
            "{}",
            err.message()
        );
        assert!(err.message().contains("federation endpoint down"), "{}", err.message());
        // Recovery once the source works again.
        provider.source().fail.store(0, Ordering::SeqCst);
        assert!(provider.credentials().await.is_ok());
    }

    #[tokio::test]
    async fn first_fetch_failure_is_returned_as_is() {
        let source = FakeSource::new(Duration::from_secs(60), Duration::ZERO);
        source.fail.store(1, Ordering::SeqCst);
        let provider = SessionTokenProvider::new(source);
        let err = provider.credentials().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Network);
        assert_eq!(err.message(), "federation endpoint down");
    }
}
