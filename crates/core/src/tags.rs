//! Resource tags: `TagResource`, `UntagResource`, `ListTagsForResource`, and
//! the tags `CreatePipeline` and `CreateCustomActionType` take.
//!
//! Taggable resources are an account's pipelines
//! (`arn:aws:codepipeline:REGION:ACCOUNT:NAME`), custom action types
//! (`arn:aws:codepipeline:REGION:ACCOUNT:actiontype:Custom/CATEGORY/PROVIDER/VERSION`)
//! and webhooks (`arn:aws:codepipeline:REGION:ACCOUNT:webhook:NAME`).
//! An ARN that does not parse, or names another partition, service or region,
//! is `InvalidArnException`; a well-formed ARN of something the caller's
//! account does not have (another account's included) is
//! `ResourceNotFoundException`.
//!
//! Rules kept here, checked before anything is written: at most
//! [`MAX_TAGS`] tags per resource (`TooManyTagsException`, nothing changed);
//! keys starting with `aws:` (any case) are reserved, and one request naming
//! a key twice is refused (`InvalidTagsException`). Tags are stored under a
//! resource key of the domain's ([`pipeline_key`], [`action_type_key`]), so
//! they do not depend on the service's region.

use crate::error_code::ErrorCode;
use serde_json::{Value, json};

use crate::action_types::{self, ActionTypeId};
use crate::api::{ApiError, Caller};
use crate::fail::{Res, fail};
use crate::input::{opt_i64, opt_list, opt_str, req_str};
use crate::paging::{decode_token, encode_token};
use crate::store::{Tag, Tx};

/// AWS's limit of tags per resource.
pub(crate) const MAX_TAGS: usize = 50;

/// `ListTagsForResource` page size when `maxResults` is not given (the model's maximum).
const LIST_PAGE: usize = 100;

/// The store's resource key of a pipeline.
pub(crate) fn pipeline_key(account: &str, name: &str) -> String {
    format!("pipeline/{account}/{name}")
}

/// The store's resource key of an action type (`key` is [`ActionTypeId::key`]).
pub(crate) fn action_type_key(key: &str) -> String {
    format!("actiontype/{key}")
}

/// A taggable resource an ARN names.
enum Resource {
    /// A pipeline of `account`.
    Pipeline { account: String, name: String },
    /// A custom action type of `account`.
    ActionType { account: String, id: ActionTypeId },
    /// A webhook of `account`.
    Webhook { account: String, name: String },
    /// A kind of resource AWS has and cpjobs never has (AWS-owned and
    /// third-party action types): well-formed, never found.
    Absent,
}

fn invalid_arn(arn: &str, why: &str) -> crate::fail::Fail {
    ApiError::client(ErrorCode::InvalidArnException, format!("The resource ARN '{arn}' is not valid: {why}")).into()
}

fn not_found(arn: &str) -> crate::fail::Fail {
    ApiError::client(ErrorCode::ResourceNotFoundException, format!("The resource '{arn}' was not found")).into()
}

/// Whether `name` can be a pipeline's name (the model's `PipelineName`).
fn is_pipeline_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'@' | b'-' | b'_'))
}

/// Parses a CodePipeline ARN of this service's region.
fn parse_arn(arn: &str, region: &str) -> Res<Resource> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, arn_region, account, resource] = parts[..] else {
        return Err(invalid_arn(arn, "an ARN has the form arn:aws:codepipeline:REGION:ACCOUNT:RESOURCE"));
    };
    if prefix != "arn" {
        return Err(invalid_arn(arn, "an ARN starts with 'arn:'"));
    }
    if partition != "aws" {
        return Err(invalid_arn(arn, "the partition must be 'aws'"));
    }
    if service != "codepipeline" {
        return Err(invalid_arn(arn, "the service must be 'codepipeline'"));
    }
    if arn_region != region {
        return Err(invalid_arn(arn, &format!("the region must be this service's, {region}")));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_arn(arn, "the account must be 12 digits"));
    }
    let account = account.to_owned();
    if let Some(rest) = resource.strip_prefix("actiontype:") {
        let [owner, category, provider, version] = rest.split('/').collect::<Vec<_>>()[..] else {
            return Err(invalid_arn(arn, "an action type is named OWNER/CATEGORY/PROVIDER/VERSION"));
        };
        if [category, provider, version].iter().any(|p| p.is_empty()) {
            return Err(invalid_arn(arn, "an action type is named OWNER/CATEGORY/PROVIDER/VERSION"));
        }
        return match owner {
            "Custom" => Ok(Resource::ActionType {
                account,
                id: ActionTypeId {
                    category: category.into(),
                    owner: owner.into(),
                    provider: provider.into(),
                    version: version.into(),
                },
            }),
            "AWS" | "ThirdParty" => Ok(Resource::Absent),
            _ => Err(invalid_arn(arn, "an action type's owner is AWS, ThirdParty or Custom")),
        };
    }
    if let Some(name) = resource.strip_prefix("webhook:").filter(|w| !w.is_empty()) {
        return Ok(Resource::Webhook { account, name: name.to_owned() });
    }
    if is_pipeline_name(resource) {
        return Ok(Resource::Pipeline { account, name: resource.to_owned() });
    }
    Err(invalid_arn(arn, "it names no pipeline or custom action type"))
}

/// The store key of the resource `arn` names, which must be the caller's
/// and exist.
fn resolve(tx: &mut dyn Tx, caller: &Caller, arn: &str, region: &str) -> Res<String> {
    match parse_arn(arn, region)? {
        Resource::Pipeline { account, name } if account == caller.account_id => {
            match tx.get_pipeline(&account, &name)? {
                Some(_) => Ok(pipeline_key(&account, &name)),
                None => Err(not_found(arn)),
            }
        }
        Resource::ActionType { account, id } if account == caller.account_id => {
            match action_types::find(tx, &id, &account)? {
                Some(_) => Ok(action_type_key(&id.key(&account))),
                None => Err(not_found(arn)),
            }
        }
        Resource::Webhook { account, name } if account == caller.account_id => match tx.get_webhook(&account, &name)? {
            Some(_) => Ok(crate::webhooks::tag_key(&account, &name)),
            None => Err(not_found(arn)),
        },
        _ => Err(not_found(arn)),
    }
}

/// Refuses a reserved key.
fn check_key(key: &str) -> Res<()> {
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return fail(
            ErrorCode::InvalidTagsException,
            format!("Tag key '{key}' is not valid: the prefix 'aws:' is reserved"),
        );
    }
    Ok(())
}

/// Reads a `TagList` (`name` of `input`): reserved and repeated keys are
/// refused, and so are more than [`MAX_TAGS`] tags.
pub(crate) fn read_tags(input: &Value, name: &str) -> Res<Vec<Tag>> {
    let mut tags: Vec<Tag> = Vec::new();
    for t in opt_list(input, name)? {
        let tag = Tag { key: req_str(t, "key")?.to_owned(), value: req_str(t, "value")?.to_owned() };
        check_key(&tag.key)?;
        if tags.iter().any(|seen| seen.key == tag.key) {
            return fail(ErrorCode::InvalidTagsException, format!("Tag key '{}' is given more than once", tag.key));
        }
        tags.push(tag);
    }
    if tags.len() > MAX_TAGS {
        return too_many();
    }
    Ok(tags)
}

fn too_many<T>() -> Res<T> {
    fail(ErrorCode::TooManyTagsException, format!("A resource can have at most {MAX_TAGS} tags"))
}

/// The wire form of tags (`TagList`).
pub(crate) fn to_json(tags: &[Tag]) -> Value {
    Value::Array(tags.iter().map(|t| json!({"key": t.key, "value": t.value})).collect())
}

/// `TagResource`: adds the tags, overwriting the values of keys the resource has.
pub(crate) fn tag(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str) -> Res<Value> {
    let arn = req_str(input, "resourceArn")?;
    let tags = read_tags(input, "tags")?;
    let resource = resolve(tx, caller, arn, region)?;
    let existing = tx.list_tags(&resource, None, usize::MAX)?;
    let added = tags.iter().filter(|t| !existing.iter().any(|e| e.key == t.key)).count();
    if existing.len() + added > MAX_TAGS {
        return too_many();
    }
    tx.put_tags(&resource, &tags)?;
    Ok(json!({}))
}

/// `UntagResource`: removes the keys; keys the resource does not have are ignored.
pub(crate) fn untag(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str) -> Res<Value> {
    let arn = req_str(input, "resourceArn")?;
    let mut keys = Vec::new();
    for k in opt_list(input, "tagKeys")? {
        let Some(k) = k.as_str() else {
            return fail(ErrorCode::ValidationException, "tagKeys must be a list of strings");
        };
        check_key(k)?;
        keys.push(k.to_owned());
    }
    let resource = resolve(tx, caller, arn, region)?;
    tx.delete_tags(&resource, &keys)?;
    Ok(json!({}))
}

/// `ListTagsForResource`, by key; `maxResults` 1..100 (default 100), the
/// token the last key of the previous page.
pub(crate) fn list(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str) -> Res<Value> {
    let arn = req_str(input, "resourceArn")?;
    let limit = opt_i64(input, "maxResults")?.map_or(LIST_PAGE, |n| n.clamp(1, LIST_PAGE as i64) as usize);
    let after = opt_str(input, "nextToken")?.map(decode_token).transpose()?;
    let resource = resolve(tx, caller, arn, region)?;
    let mut tags = tx.list_tags(&resource, after.as_deref(), limit + 1)?;
    let more = tags.len() > limit;
    tags.truncate(limit);
    let mut out = json!({"tags": to_json(&tags)});
    if more && let Some(last) = tags.last() {
        out["nextToken"] = json!(encode_token(&last.key));
    }
    Ok(out)
}
