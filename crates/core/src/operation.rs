//! Every operation the service answers to, in one table: its wire name, the
//! API that defines it (CodePipeline's model or cpjobs's own extensions) and
//! the path it takes through the service.
//!
//! The server routes `X-Amz-Target` to an [`Operation`], and the service
//! matches on it exhaustively, so adding an operation is one row here and
//! then whatever the compiler asks for. Names are the model's PascalCase
//! names, exactly as they travel.

use std::fmt;
use std::str::FromStr;

/// The API that defines an operation, and so its `X-Amz-Target` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// AWS CodePipeline, API version 2015-07-09: the input is checked
    /// against the model before the domain sees it.
    CodePipeline,
    /// cpjobs's own operations (not in the model; the domain checks their input).
    Cpjobs,
}

/// How the service runs an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// One short read (an index lookup or two): answered on the caller's
    /// thread when the store's reads are quick ([`crate::Store::inline_reads`]).
    QuickRead,
    /// A read that may scan many rows: on a thread that may block.
    Read,
    /// A write that may also do file I/O (buckets, S3 source copies): on a
    /// thread that may block.
    Write,
    /// A job write a worker fleet repeats for every job: handed to the
    /// store's writer ([`crate::Store::write_then`]) without blocking.
    Job(JobWrite),
    /// In CodePipeline's model, but not run by cpjobs: refused with
    /// `UnknownOperationException` (as AWS answers an operation it does not
    /// know) once the caller is known.
    Unsupported,
}

/// The job writes (`true`: the third-party form of the operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobWrite {
    /// A poll: checked on the reader, then a claim.
    Poll(bool),
    /// An acknowledgement.
    Acknowledge(bool),
    /// A success result.
    Success(bool),
    /// A failure result.
    Failure(bool),
}

/// Defines [`Operation`] and its table from one list of rows.
macro_rules! operations {
    ($($name:ident: $family:ident, $path:expr;)*) => {
        /// An operation of the service (see the module's documentation).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                $name,
            )*
        }

        impl Operation {
            /// Every operation, in the table's order.
            pub const ALL: &'static [Operation] = &[$(Operation::$name,)*];

            /// The operation's name as it travels (`X-Amz-Target`'s suffix).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Operation::$name => stringify!($name),)*
                }
            }

            /// The API that defines the operation.
            pub const fn family(self) -> Family {
                match self {
                    $(Operation::$name => Family::$family,)*
                }
            }

            /// How the service runs the operation.
            pub const fn path(self) -> Path {
                match self {
                    $(Operation::$name => $path,)*
                }
            }
        }
    };
}

operations! {
    AcknowledgeJob: CodePipeline, Path::Job(JobWrite::Acknowledge(false));
    AcknowledgeThirdPartyJob: CodePipeline, Path::Job(JobWrite::Acknowledge(true));
    CreateCustomActionType: CodePipeline, Path::Write;
    CreatePipeline: CodePipeline, Path::Write;
    DeleteCustomActionType: CodePipeline, Path::Write;
    DeletePipeline: CodePipeline, Path::Write;
    DeleteWebhook: CodePipeline, Path::Write;
    DeregisterWebhookWithThirdParty: CodePipeline, Path::Write;
    DisableStageTransition: CodePipeline, Path::Write;
    EnableStageTransition: CodePipeline, Path::Write;
    GetActionType: CodePipeline, Path::Read;
    GetJobDetails: CodePipeline, Path::QuickRead;
    GetPipeline: CodePipeline, Path::Read;
    GetPipelineExecution: CodePipeline, Path::Read;
    GetPipelineState: CodePipeline, Path::Read;
    GetThirdPartyJobDetails: CodePipeline, Path::QuickRead;
    ListActionExecutions: CodePipeline, Path::Read;
    ListActionTypes: CodePipeline, Path::Read;
    ListDeployActionExecutionTargets: CodePipeline, Path::Read;
    ListPipelineExecutions: CodePipeline, Path::Read;
    ListPipelines: CodePipeline, Path::Read;
    ListRuleExecutions: CodePipeline, Path::Read;
    ListRuleTypes: CodePipeline, Path::Read;
    ListTagsForResource: CodePipeline, Path::Read;
    ListWebhooks: CodePipeline, Path::Read;
    OverrideStageCondition: CodePipeline, Path::Write;
    PollForJobs: CodePipeline, Path::Job(JobWrite::Poll(false));
    PollForThirdPartyJobs: CodePipeline, Path::Job(JobWrite::Poll(true));
    PutActionRevision: CodePipeline, Path::Write;
    PutApprovalResult: CodePipeline, Path::Write;
    PutJobFailureResult: CodePipeline, Path::Job(JobWrite::Failure(false));
    PutJobSuccessResult: CodePipeline, Path::Job(JobWrite::Success(false));
    PutThirdPartyJobFailureResult: CodePipeline, Path::Job(JobWrite::Failure(true));
    PutThirdPartyJobSuccessResult: CodePipeline, Path::Job(JobWrite::Success(true));
    PutWebhook: CodePipeline, Path::Write;
    RegisterWebhookWithThirdParty: CodePipeline, Path::Write;
    RetryStageExecution: CodePipeline, Path::Write;
    RollbackStage: CodePipeline, Path::Write;
    StartPipelineExecution: CodePipeline, Path::Write;
    StopPipelineExecution: CodePipeline, Path::Write;
    TagResource: CodePipeline, Path::Write;
    UntagResource: CodePipeline, Path::Write;
    UpdateActionType: CodePipeline, Path::Write;
    UpdatePipeline: CodePipeline, Path::Write;
    ListThirdPartyClients: Cpjobs, Path::Read;
    ListJobQueues: Cpjobs, Path::Read;
}

impl Operation {
    /// The operation `family` defines under `name`, if any: a name of the
    /// other family is no operation of this one.
    pub fn of(family: Family, name: &str) -> Option<Operation> {
        name.parse().ok().filter(|op: &Operation| op.family() == family)
    }
}

/// A name that is no operation of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOperation(pub String);

impl fmt::Display for UnknownOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Unknown operation {}", self.0)
    }
}

impl std::error::Error for UnknownOperation {}

impl FromStr for Operation {
    type Err = UnknownOperation;

    /// Exactly the wire name (case matters, as in `X-Amz-Target`).
    fn from_str(name: &str) -> Result<Operation, UnknownOperation> {
        Operation::ALL.iter().copied().find(|op| op.as_str() == name).ok_or_else(|| UnknownOperation(name.to_owned()))
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The operations botocore's installed model defines, asked of botocore
    /// itself (the embedded model is a copy of it; this guards the copy too).
    fn botocore_operations() -> Vec<String> {
        let script = "import botocore.session\n\
                      m = botocore.session.get_session().get_service_model('codepipeline', '2015-07-09')\n\
                      print('\\n'.join(m.operation_names))";
        let out = std::process::Command::new("python3").args(["-c", script]).output().expect("python3 runs");
        assert!(out.status.success(), "botocore is installed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8").lines().map(str::to_owned).collect()
    }

    #[test]
    fn every_operation_of_botocores_model_has_a_variant_that_round_trips() {
        let names = botocore_operations();
        assert_eq!(names.len(), 44, "{names:?}");
        for name in &names {
            let op: Operation = name.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(op.as_str(), name);
            assert_eq!(op.to_string(), *name);
            assert_eq!(op.family(), Family::CodePipeline, "{name}");
            assert_eq!(Operation::of(Family::CodePipeline, name), Some(op));
            assert_eq!(Operation::of(Family::Cpjobs, name), None, "{name} is no extension");
        }
        // And nothing else claims to be CodePipeline's.
        let ours: Vec<&str> =
            Operation::ALL.iter().filter(|op| op.family() == Family::CodePipeline).map(|op| op.as_str()).collect();
        assert_eq!(ours.len(), names.len(), "{ours:?}");
    }

    #[test]
    fn the_embedded_model_has_the_same_operations() {
        let model = cpjobs_model::ServiceModel::codepipeline();
        let mut embedded: Vec<&str> = model.operations.iter().map(|o| o.name.as_str()).collect();
        let mut ours: Vec<&str> =
            Operation::ALL.iter().filter(|op| op.family() == Family::CodePipeline).map(|op| op.as_str()).collect();
        embedded.sort_unstable();
        ours.sort_unstable();
        assert_eq!(ours, embedded);
    }

    #[test]
    fn extensions_round_trip_in_their_own_family() {
        let op = Operation::of(Family::Cpjobs, "ListThirdPartyClients").expect("an extension");
        assert_eq!(op, Operation::ListThirdPartyClients);
        assert_eq!(op.path(), Path::Read);
        assert_eq!(Operation::of(Family::CodePipeline, "ListThirdPartyClients"), None);
    }

    #[test]
    fn unknown_names_are_refused() {
        for name in ["", "NoSuchOperation", "pollForThirdPartyJobs", "PollForThirdPartyJobs ", "PollForJob", "ALL"] {
            assert_eq!(name.parse::<Operation>(), Err(UnknownOperation(name.to_owned())), "{name:?}");
            assert_eq!(Operation::of(Family::CodePipeline, name), None);
            assert_eq!(Operation::of(Family::Cpjobs, name), None);
        }
        assert_eq!(UnknownOperation("X".into()).to_string(), "Unknown operation X");
    }

    #[test]
    fn names_are_unique_and_the_job_writes_are_the_eight_job_operations() {
        let mut names: Vec<&str> = Operation::ALL.iter().map(|op| op.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Operation::ALL.len());
        let jobs: Vec<&str> =
            Operation::ALL.iter().filter(|op| matches!(op.path(), Path::Job(_))).map(|op| op.as_str()).collect();
        assert_eq!(
            jobs,
            [
                "AcknowledgeJob",
                "AcknowledgeThirdPartyJob",
                "PollForJobs",
                "PollForThirdPartyJobs",
                "PutJobFailureResult",
                "PutJobSuccessResult",
                "PutThirdPartyJobFailureResult",
                "PutThirdPartyJobSuccessResult",
            ]
        );
        for op in Operation::ALL {
            if let Path::Job(w) = op.path() {
                let third_party = matches!(w, JobWrite::Poll(t) | JobWrite::Acknowledge(t) | JobWrite::Success(t) | JobWrite::Failure(t) if t);
                assert_eq!(third_party, op.as_str().contains("ThirdParty"), "{op}");
            }
        }
    }
}
