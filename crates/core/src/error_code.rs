//! Every error code the service answers with, in one list: the `__type` of
//! an error body (AWS JSON 1.1) and the `X-Amzn-ErrorType` header. The
//! variants are named exactly as the codes travel, so the wire bytes are the
//! names; CodePipeline's modelled exceptions, the protocol's own codes and
//! AWS's authentication codes all come from here.

use std::fmt;

/// Defines [`ErrorCode`] from one list of names.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// An error code (see the module's documentation).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)*
        }

        impl ErrorCode {
            /// Every code, in the list's order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The code as it travels.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => stringify!($name),)*
                }
            }
        }
    };
}

error_codes! {
    // CodePipeline's modelled exceptions.
    /// An action execution that none of the caller's pipelines has.
    ActionExecutionNotFoundException,
    /// A manual approval that was already answered.
    ApprovalAlreadyCompletedException,
    /// An action that the pipeline does not have.
    ActionNotFoundException,
    /// An action type that does not exist or that the caller may not use.
    ActionTypeNotFoundException,
    /// A change that lost too many races in a row.
    ConcurrentModificationException,
    /// A stage condition with nothing waiting to override.
    ConditionNotOverridableException,
    /// A request that conflicts with the resource's state.
    ConflictException,
    /// A second stop of an execution that is stopping.
    DuplicatedStopRequestException,
    /// An action declaration the service refuses.
    InvalidActionDeclarationException,
    /// An approval token that is not the action's.
    InvalidApprovalTokenException,
    /// An ARN that names no resource of this service.
    InvalidArnException,
    /// A blocker declaration the service refuses.
    InvalidBlockerDeclarationException,
    /// A client token that is not the job's client's.
    InvalidClientTokenException,
    /// A job whose status does not allow the call.
    InvalidJobStateException,
    /// A nonce that is not the job's current one.
    InvalidNonceException,
    /// A paging token the service did not hand out.
    InvalidNextTokenException,
    /// A webhook's authentication and its configuration that do not go together.
    InvalidWebhookAuthenticationParametersException,
    /// A webhook filter whose JSONPath or placeholder the service refuses.
    InvalidWebhookFilterPatternException,
    /// A stage declaration the service refuses.
    InvalidStageDeclarationException,
    /// A pipeline structure the service refuses.
    InvalidStructureException,
    /// Tags the service refuses.
    InvalidTagsException,
    /// A job that does not exist or that the caller may not see.
    JobNotFoundException,
    /// A per-account quota reached.
    LimitExceededException,
    /// An execution that is not the pipeline's latest.
    NotLatestPipelineExecutionException,
    /// Output variables over their size limit.
    OutputVariablesSizeExceededException,
    /// An execution that does not exist.
    PipelineExecutionNotFoundException,
    /// An execution that cannot be stopped.
    PipelineExecutionNotStoppableException,
    /// A rollback target from an older version of the pipeline.
    PipelineExecutionOutdatedException,
    /// A pipeline name already taken.
    PipelineNameInUseException,
    /// A pipeline that does not exist.
    PipelineNotFoundException,
    /// A pipeline version that the pipeline never had.
    PipelineVersionNotFoundException,
    /// A stage execution that is no longer retryable (the model's code).
    RequestFailedException,
    /// A resource that the caller's account does not have.
    ResourceNotFoundException,
    /// A stage that the pipeline does not have.
    StageNotFoundException,
    /// A stage that cannot be retried.
    StageNotRetryableException,
    /// More tags than a resource may have.
    TooManyTagsException,
    /// A stage that cannot be rolled back to the execution named.
    UnableToRollbackStageException,
    /// Input that breaks the model's constraints or the service's rules.
    ValidationException,
    /// A webhook that the caller's account does not have.
    WebhookNotFoundException,
    // The protocol's own codes.
    /// The service's own failure (HTTP 500).
    InternalFailure,
    /// A request that took too long, or whose body came too slowly.
    RequestTimeoutException,
    /// A body that cannot be read as the operation's input.
    SerializationException,
    /// A request that names no operation of the service.
    UnknownOperationException,
    // AWS's authentication codes.
    /// Session credentials past their expiry.
    ExpiredTokenException,
    /// An `Authorization` header missing a part.
    IncompleteSignatureException,
    /// A signature that does not match the request.
    InvalidSignatureException,
    /// No credentials at all.
    MissingAuthenticationTokenException,
    /// An access key the service does not know.
    UnrecognizedClientException,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Codes compare with their wire names (tests, logs).
impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for ErrorCode {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_travel_as_their_names() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        assert_eq!(ErrorCode::JobNotFoundException.to_string(), "JobNotFoundException");
        assert_eq!(ErrorCode::InternalFailure, "InternalFailure");
    }

    #[test]
    fn every_modelled_exception_the_service_answers_is_in_the_model() {
        let model = cpjobs_model::ServiceModel::codepipeline();
        let own = [
            ErrorCode::InternalFailure,
            ErrorCode::RequestTimeoutException,
            ErrorCode::SerializationException,
            ErrorCode::UnknownOperationException,
            ErrorCode::ExpiredTokenException,
            ErrorCode::IncompleteSignatureException,
            ErrorCode::InvalidSignatureException,
            ErrorCode::MissingAuthenticationTokenException,
            ErrorCode::UnrecognizedClientException,
        ];
        for code in ErrorCode::ALL.iter().filter(|c| !own.contains(c)) {
            assert!(model.find_shape(code.as_str()).is_some(), "{code} is no shape of the model");
        }
    }
}
