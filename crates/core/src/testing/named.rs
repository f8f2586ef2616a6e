//! Named tests: the one list of every contract check and domain scenario,
//! and [`store_tests!`](crate::store_tests), which a store crate invokes once
//! to get one `#[test]` per check and per scenario run (as ripgrep's
//! `rgtest!`), so a failure hides nothing and any one runs by name:
//!
//! ```text
//! cargo test -p cpjobs-store-sqlite contract::claims_are_fifo_per_queue
//! cargo test -p cpjobs-store-sqlite domain::manual_approval::blocking
//! ```
//!
//! The list is checked both ways when `cpjobs-core` compiles with the
//! `testing` feature: a listed name that is no check does not resolve, and
//! a check function that is not listed is dead code, which `contract.rs`
//! and `domain.rs` deny. A new store inherits the same named list.

/// The list: contract checks on a fresh store (`owned`), contract checks on
/// a store shared by threads (`shared`), domain scenarios run twice,
/// on the store as it is and on the same store saying its reads are not
/// quick, so that every operation runs as blocking work (`twice`),
/// and scenarios that build their own world from a store maker (`once`).
/// Hands the list to the macro `$then` of this crate, after `$args`.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_checks {
    ($then:ident ! ($($args:tt)*)) => {
        $crate::$then! {
            ($($args)*)
            owned: [
                rollback_on_error,
                action_types,
                pipelines,
                pipeline_versions,
                executions,
                claims_are_fifo_per_queue,
                claims_filter_on_query_value,
                guarded_job_updates,
                leases_and_timeouts,
                unfinished_job_lists,
                clients,
                tags,
                transitions,
                webhooks,
                queued_writes_answer_once_committed,
                queue_reads,
                reached_marks,
                combined_reads,
            ]
            shared: [
                concurrent_claims_hand_each_job_out_once,
                concurrent_writes_keep_exactly_the_successful_ones,
                queued_and_direct_writes_mix,
            ]
            twice: [
                third_party_lifecycle_with_continuation,
                custom_action_lifecycle,
                failure_fails_execution_and_retry_recovers,
                timeout_fails_the_action,
                manual_approval,
                wrong_and_stale_nonces,
                client_tokens_and_other_partners,
                pipeline_declarations,
                pipeline_versions,
                action_type_ownership,
                stop_and_delete,
                parallel_actions_and_run_order,
                superseded_executions,
                queued_executions,
                action_executions_of_every_execution,
                s3_source_runs_in_the_service,
                resource_tags,
                secret_configuration_values,
                leases_and_timeouts_in_order,
                outputs_are_writable_only_in_progress,
                artifact_bucket_taken_by_another_account,
                client_tokens_sealed_at_rest,
                unsupported_operations_are_refused,
                strict_where_aws_is_strict,
                stage_transitions,
                variables_reach_later_jobs_resolved,
                put_action_revision_starts_executions,
                put_action_revision_for_third_party_and_s3_sources,
                deploy_action_targets,
                job_queues_and_pollers,
                webhooks_start_pipelines,
                s3_object_versions_start_watching_pipelines,
                stage_conditions_gate_and_judge,
                deployment_window_holds_until_open_or_overridden,
                failed_stage_retries_itself_once,
                failed_stage_rolls_back,
                rollback_stage_by_hand,
            ]
            once: [
                state_of_stages_reached_long_ago,
                configured_lease,
                quotas,
                action_type_round_trip,
                concurrent_polls,
            ]
        }
    };
}

/// One `#[test]` per contract check and domain scenario run, for the store
/// that `$make` (a function or closure taking nothing) opens fresh and
/// empty at each call. Invoke it once, at the top of a test file; it adds
/// the modules `contract` and `domain`:
///
/// ```ignore
/// fn fresh() -> MyStore { MyStore::open_temporary().unwrap() }
/// cpjobs_core::store_tests!(fresh);
/// ```
///
/// Tests are named `contract::<check>`, `domain::<scenario>::inline`,
/// `domain::<scenario>::blocking` and `domain::<scenario>`.
///
/// A store that needs a server the machine may lack adds `ready = $ready`,
/// a function answering whether to run: each test that it answers `false`
/// passes without running (it should say why, and answer `false` only where
/// skipping is allowed):
///
/// ```ignore
/// cpjobs_core::store_tests!(fresh, ready = server_is_configured);
/// ```
#[macro_export]
macro_rules! store_tests {
    ($make:expr) => {
        $crate::__store_checks!(__store_tests!($make, $crate::testing::named::always));
    };
    ($make:expr, ready = $ready:expr) => {
        $crate::__store_checks!(__store_tests!($make, $ready));
    };
}

/// The readiness of a store that needs nothing outside the process.
#[doc(hidden)]
pub fn always() -> bool {
    true
}

/// [`store_tests!`]'s body, given the list.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_tests {
    (
        ($make:expr, $ready:expr)
        owned: [$($owned:ident,)*]
        shared: [$($shared:ident,)*]
        twice: [$($twice:ident,)*]
        once: [$($once:ident,)*]
    ) => {
        /// The store contract, one test per check.
        mod contract {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $owned() {
                    if !($ready)() {
                        return;
                    }
                    $crate::testing::contract::run(stringify!($owned), &$make);
                }
            )*
            $(
                #[test]
                fn $shared() {
                    if !($ready)() {
                        return;
                    }
                    $crate::testing::contract::run(stringify!($shared), &$make);
                }
            )*
        }

        /// The domain scenarios, one test per scenario and way of calling.
        mod domain {
            #[allow(unused_imports)]
            use super::*;
            $(
                mod $twice {
                    #[allow(unused_imports)]
                    use super::*;
                    #[test]
                    fn inline() {
                        if !($ready)() {
                            return;
                        }
                        $crate::testing::domain::run(stringify!($twice), $crate::testing::domain::Mode::Inline, &$make);
                    }
                    #[test]
                    fn blocking() {
                        if !($ready)() {
                            return;
                        }
                        $crate::testing::domain::run(
                            stringify!($twice),
                            $crate::testing::domain::Mode::Blocking,
                            &$make,
                        );
                    }
                }
            )*
            $(
                #[test]
                fn $once() {
                    if !($ready)() {
                        return;
                    }
                    $crate::testing::domain::run(stringify!($once), $crate::testing::domain::Mode::Inline, &$make);
                }
            )*
        }
    };
}

/// Every name of the list, in order, with its suite, for tools and tests
/// that want the list as data.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_check_names {
    (
        ()
        owned: [$($owned:ident,)*]
        shared: [$($shared:ident,)*]
        twice: [$($twice:ident,)*]
        once: [$($once:ident,)*]
    ) => {
        &[
            $(("contract", stringify!($owned)),)*
            $(("contract", stringify!($shared)),)*
            $(("domain", stringify!($twice)),)*
            $(("domain", stringify!($once)),)*
        ]
    };
}

/// Every contract check and domain scenario: (suite, name).
pub const CHECKS: &[(&str, &str)] = crate::__store_checks!(__store_check_names!());

/// `contract::run`'s body, given the list.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_dispatch {
    (
        ($name:ident, $make:ident)
        owned: [$($owned:ident,)*]
        shared: [$($shared:ident,)*]
        twice: [$($twice:ident,)*]
        once: [$($once:ident,)*]
    ) => {
        match $name {
            $(stringify!($owned) => $owned($make()),)*
            $(stringify!($shared) => $shared(::std::sync::Arc::new($make())),)*
            other => panic!("no contract check is named {other}"),
        }
    };
}

/// `domain::run`'s body, given the list.
#[doc(hidden)]
#[macro_export]
macro_rules! __domain_dispatch {
    (
        ($name:ident, $world:ident, $make:ident)
        owned: [$($owned:ident,)*]
        shared: [$($shared:ident,)*]
        twice: [$($twice:ident,)*]
        once: [$($once:ident,)*]
    ) => {
        match $name {
            $(stringify!($twice) => $twice($world()),)*
            $(stringify!($once) => $once($make),)*
            other => panic!("no domain scenario is named {other}"),
        }
    };
}
