//! What an operator declares about the service: accounts and their principals,
//! and the third-party action types partners own.

/// The service's configuration, as read from `cpjobs serve --config FILE`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceConfig {
    /// The region the service answers for (`us-east-1` by default).
    pub region: String,
    /// Known accounts.
    pub accounts: Vec<Account>,
    /// Third-party action types registered by the operator.
    pub third_party_action_types: Vec<ThirdPartyActionType>,
    /// How long a poll's dispatch lease lasts, in seconds ([`DEFAULT_LEASE`](crate::DEFAULT_LEASE) when `None`).
    pub dispatch_lease_seconds: Option<u64>,
    /// Per-account quotas.
    pub quotas: Quotas,
}

/// Per-account quotas (AWS's are per account and region; a cpjobs service
/// answers for one region). Creating beyond one answers `LimitExceededException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Pipelines per account (AWS: 1,000).
    pub pipelines_per_account: usize,
    /// Custom action types per account, deleted ones not counted (AWS: 50).
    pub custom_action_types_per_account: usize,
}

impl Quotas {
    /// AWS's default quotas.
    pub const AWS: Quotas = Quotas { pipelines_per_account: 1000, custom_action_types_per_account: 50 };
}

impl Default for Quotas {
    fn default() -> Quotas {
        Quotas::AWS
    }
}

/// An account and the principals that act for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// 12-digit id.
    pub id: String,
    /// Long-term access keys.
    pub principals: Vec<Principal>,
}

/// One access key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

/// A `ThirdParty` action type a partner account owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThirdPartyActionType {
    /// The partner's account id.
    pub owner_account: String,
    /// `Source`, `Build`, `Deploy`, `Test`, `Invoke` or `Approval`.
    pub category: String,
    /// Provider name.
    pub provider: String,
    /// Version.
    pub version: String,
    /// Accounts allowed to poll for its jobs.
    pub polling_accounts: Vec<String>,
    /// Job timeout in seconds (60 to 43200, default 3600).
    pub job_timeout_seconds: u64,
}
