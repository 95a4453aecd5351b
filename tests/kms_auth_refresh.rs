// SPDX-License-Identifier: MPL-2.0
//! A 401 asks the credential provider to refresh once, then retries once.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use common::{fast_retries, Emulator};
use ocikms::auth::{CredentialProvider, Credentials, PrincipalType};
use ocikms::kms::KmsClient;
use ocikms::{CallOptions, ErrorCode, Seal};

/// Signs with a wrong key until refreshed; `heals` decides whether a refresh fixes it.
struct StaleThenFresh {
    good: Arc<dyn CredentialProvider>,
    bad: Arc<Credentials>,
    heals: bool,
    healed: AtomicBool,
    refreshes: AtomicU32,
}

impl StaleThenFresh {
    async fn new(good: Arc<dyn CredentialProvider>, heals: bool) -> StaleThenFresh {
        let key_id = good.credentials().await.unwrap().key_id.clone();
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        StaleThenFresh {
            good,
            bad: Arc::new(Credentials { key_id, key: Arc::new(key) }),
            heals,
            healed: AtomicBool::new(false),
            refreshes: AtomicU32::new(0),
        }
    }
}

#[async_trait]
impl CredentialProvider for StaleThenFresh {
    async fn credentials(&self) -> ocikms::Result<Arc<Credentials>> {
        if self.healed.load(Ordering::SeqCst) {
            self.good.credentials().await
        } else {
            Ok(Arc::clone(&self.bad))
        }
    }

    async fn refresh_after_unauthorized(&self, _stale: &Credentials) -> bool {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        self.healed.store(self.heals, Ordering::SeqCst);
        true
    }

    fn principal_type(&self) -> PrincipalType {
        PrincipalType::User
    }

    fn describe(&self) -> String {
        "a test principal".to_owned()
    }
}

async fn seal_with(emu: &Emulator, provider: Arc<StaleThenFresh>) -> ocikms::Result<Seal> {
    let config = emu.config();
    let client =
        KmsClient::new(&config, provider)?.with_retry_policy(fast_retries(config.max_attempts));
    Seal::from_client(config, client, &CallOptions::default()).await
}

#[tokio::test]
async fn unauthorized_refreshes_once_and_retries() {
    let emu = Emulator::start();
    let good = ocikms::auth::provider_from_config(&emu.config()).unwrap();
    let provider = Arc::new(StaleThenFresh::new(good, true).await);
    let seal = seal_with(&emu, Arc::clone(&provider)).await.expect("init after one refresh");
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(emu.count("encrypt", "401").await, 1);
    assert_eq!(emu.count("encrypt", "200").await, 1);
    let blob = seal.encrypt(b"ok", &CallOptions::default()).await.unwrap();
    assert_eq!(&*seal.decrypt(&blob, &CallOptions::default()).await.unwrap(), b"ok");
}

#[tokio::test]
async fn unauthorized_after_refresh_is_reported_not_retried_again() {
    let emu = Emulator::start();
    let good = ocikms::auth::provider_from_config(&emu.config()).unwrap();
    let provider = Arc::new(StaleThenFresh::new(good, false).await);
    let err = match seal_with(&emu, Arc::clone(&provider)).await {
        Ok(_) => panic!("a wrong key must not authenticate"),
        Err(err) => err,
    };
    assert_eq!(err.code(), ErrorCode::NotAuthenticated, "{err}");
    assert_eq!(err.service().unwrap().status, 401);
    assert!(err.message().contains("a test principal"), "{err}");
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(emu.count("encrypt", "401").await, 2);
}
