//! The store's contract: one list of tests, run against every backend (the disk
//! store, and the shared store on a throwaway moto S3 server), each test given two
//! handles on one store, as two service nodes would have.
//!
//! The shared store's tests need python3 with `moto[server]` (scripts/setup-test-deps.sh
//! installs it). Without it they are skipped, unless `CPJOBS_REQUIRE_S3` (set by
//! scripts/test.sh) or `CI` is set: then they fail.

use std::io;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};

use super::*;

/// The bucket the moto server holds for these tests; each test has its own prefix in it.
const MOTO_BUCKET: &str = "cpjobs-contract";

/// A moto server, started once per test binary and stopped when it exits (the server
/// stops when its standard input, held here, closes).
struct Moto {
    port: u16,
    _child: Child,
}

fn required() -> bool {
    ["CPJOBS_REQUIRE_S3", "CI"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|x| !x.is_empty() && x != "0" && x != "false"))
}

fn start_moto() -> Result<Moto, String> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/moto-server.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(MOTO_BUCKET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run python3 {}: {e}", script.display()))?;
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    io::BufRead::read_line(&mut io::BufReader::new(stdout), &mut line).map_err(|e| e.to_string())?;
    match line.trim().parse() {
        Ok(port) => Ok(Moto { port, _child: child }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err("moto did not start (is `moto[server]` installed? scripts/setup-test-deps.sh installs it)".into())
        }
    }
}

/// Settings for a fresh store on the shared moto server, or `None` (skipped) when moto
/// is not there and not required.
pub(crate) fn moto_settings() -> Option<RemoteSettings> {
    static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();
    match MOTO.get_or_init(start_moto) {
        Ok(moto) => {
            let mut s = RemoteSettings::new(&format!("http://127.0.0.1:{}", moto.port), "us-east-1", MOTO_BUCKET);
            s.prefix = format!("t{}", crate::credentials::random_hex(8).expect("random"));
            s.credentials = Some(("testing".into(), "testing".into()));
            Some(s)
        }
        Err(e) if required() => panic!("{e}"),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

/// Two handles on one disk store (the directory stays while the test runs).
pub(crate) fn disk_pair() -> Option<(ArtifactStore, ArtifactStore, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let a = ArtifactStore::open(dir.path()).unwrap();
    let b = ArtifactStore::open(dir.path()).unwrap();
    Some((a, b, dir))
}

/// Two clients (two nodes) on one shared store.
pub(crate) fn remote_pair() -> Option<(ArtifactStore, ArtifactStore, ())> {
    let settings = moto_settings()?;
    let a = ArtifactStore::new(Arc::new(RemoteBackend::new(&settings).unwrap()));
    let b = ArtifactStore::new(Arc::new(RemoteBackend::new(&settings).unwrap()));
    Some((a, b, ()))
}

/// One `#[tokio::test]` per contract case, for one backend (`$pair`: two handles, or
/// `None` to skip).
macro_rules! contract_tests {
    ($pair:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((a, b, _keep)) = $pair() else { return };
                super::$case(a, b).await;
            }
        )*
    };
}

macro_rules! every_case {
    ($m:ident, $pair:path) => {
        $m!($pair;
            objects_round_trip_with_md5_etag_ranges_and_headers,
            a_refused_body_leaves_the_old_object,
            buckets_have_one_owner_even_when_created_at_once,
            listing_pages_and_groups_keys,
            copies_keep_content_etag_and_headers_under_the_new_key,
            multipart_uploads_join_parts_with_aws_etag_across_nodes,
            small_parts_before_the_last_are_refused,
            aborted_uploads_take_no_more_parts,
            a_part_sent_again_replaces_the_first,
            large_bodies_stream_whole,
            deletes_are_seen_by_every_node,
            blocking_calls_work_from_domain_threads,
        );
    };
}

mod disk {
    every_case!(contract_tests, super::disk_pair);
}

mod remote {
    every_case!(contract_tests, super::remote_pair);
}

fn body(chunks: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    futures::stream::iter(chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect::<Vec<_>>())
}

async fn read(store: &ArtifactStore, bucket: &str, key: &str, range: std::ops::Range<u64>) -> Vec<u8> {
    let (_, reader) = store.get_object(bucket, key).await.unwrap();
    let mut s = reader.stream(range).await.unwrap();
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn md5_hex(data: &[u8]) -> String {
    etag_of(Md5::digest(data).into())
}

async fn objects_round_trip_with_md5_etag_ranges_and_headers(a: ArtifactStore, b: ArtifactStore) {
    a.ensure_bucket("artifacts", "111122223333").await.unwrap();
    let mut headers = ObjectHeaders { content_type: Some("application/zip".into()), ..Default::default() };
    headers.metadata.insert("note".into(), "é".into());
    let check = BodyCheck { len: Some(11), md5: Some(Md5::digest(b"hello world").into()) };
    let meta = a
        .put_object("artifacts", "a/../../b", headers.clone(), body(&[b"hello ", b"world"]), check, now())
        .await
        .unwrap();
    assert_eq!((meta.etag.as_str(), meta.size), ("5eb63bbbe01eeed093cb22bb8f5acdc3", 11));
    // Read through the other node.
    let (got, _) = b.get_object("artifacts", "a/../../b").await.unwrap();
    assert_eq!(got, meta);
    assert_eq!(got.headers, headers);
    assert_eq!(read(&b, "artifacts", "a/../../b", 0..11).await, b"hello world");
    assert_eq!(read(&b, "artifacts", "a/../../b", 6..9).await, b"wor");
    assert_eq!(b.head_object("artifacts", "a/../../b").await.unwrap(), meta);
    assert!(matches!(b.head_object("artifacts", "a/../b").await, Err(StoreError::NoSuchKey)));
    assert!(matches!(b.head_object("nope", "k").await, Err(StoreError::NoSuchBucket)));
    let empty = a.put_object("artifacts", "empty", ObjectHeaders::default(), body(&[]), BodyCheck::default(), now());
    assert_eq!(empty.await.unwrap().etag, md5_hex(b""));
    assert_eq!(read(&b, "artifacts", "empty", 0..0).await, b"");
}

async fn a_refused_body_leaves_the_old_object(a: ArtifactStore, b: ArtifactStore) {
    a.ensure_bucket("bkt", "111122223333").await.unwrap();
    let none = ObjectHeaders::default;
    a.put_object("bkt", "k", none(), body(&[b"v1"]), BodyCheck::default(), now()).await.unwrap();
    let huge = BodyCheck { len: Some(MAX_UPLOAD_SIZE + 1), md5: None };
    assert!(matches!(
        a.put_object("bkt", "k", none(), body(&[b"v2"]), huge, now()).await,
        Err(StoreError::EntityTooLarge)
    ));
    let short = BodyCheck { len: Some(5), md5: None };
    assert!(matches!(
        a.put_object("bkt", "k", none(), body(&[b"v2"]), short, now()).await,
        Err(StoreError::IncompleteBody)
    ));
    let bad_md5 = BodyCheck { len: None, md5: Some([0; 16]) };
    assert!(matches!(
        a.put_object("bkt", "k", none(), body(&[b"v2"]), bad_md5, now()).await,
        Err(StoreError::BadDigest)
    ));
    let broken = futures::stream::iter(vec![Ok(Bytes::from_static(b"v2")), Err(io::Error::other("reset"))]);
    assert!(matches!(
        a.put_object("bkt", "k", none(), broken, BodyCheck::default(), now()).await,
        Err(StoreError::IncompleteBody)
    ));
    let mismatch = futures::stream::iter(vec![Ok(Bytes::from_static(b"v2")), Err(BoxError::from(DigestMismatch))]);
    assert!(matches!(
        a.put_object("bkt", "k", none(), mismatch, BodyCheck::default(), now()).await,
        Err(StoreError::BadDigest)
    ));
    let refused = futures::stream::iter(vec![Ok(Bytes::from_static(b"v2")), Err(BoxError::from(WriteRefused))]);
    assert!(matches!(
        a.put_object("bkt", "k", none(), refused, BodyCheck::default(), now()).await,
        Err(StoreError::WriteRefused)
    ));
    assert_eq!(read(&b, "bkt", "k", 0..2).await, b"v1");
    assert!(matches!(
        a.put_object("missing", "k", none(), body(&[b"x"]), BodyCheck::default(), now()).await,
        Err(StoreError::NoSuchBucket)
    ));
}

async fn buckets_have_one_owner_even_when_created_at_once(a: ArtifactStore, b: ArtifactStore) {
    let (ra, rb) =
        tokio::join!(a.create_bucket("raced", "111111111111", now()), b.create_bucket("raced", "222222222222", now()));
    let winner = match (ra, rb) {
        (Ok(info), Err(StoreError::BucketExists { owner })) | (Err(StoreError::BucketExists { owner }), Ok(info)) => {
            assert_eq!(info.owner, owner, "the loser is told who won");
            owner
        }
        other => panic!("exactly one creator wins: {other:?}"),
    };
    assert_eq!(a.bucket_owner("raced").await.unwrap().as_deref(), Some(winner.as_str()));
    a.ensure_bucket("shared", "111122223333").await.unwrap();
    b.ensure_bucket("shared", "111122223333").await.unwrap();
    assert!(matches!(
        b.ensure_bucket("shared", "444455556666").await,
        Err(StoreError::BucketExists { owner }) if owner == "111122223333"
    ));
    assert!(matches!(a.ensure_bucket("Bad_Name", "1").await, Err(StoreError::InvalidBucketName)));
    assert_eq!(a.bucket_owner("missing").await.unwrap(), None);
    let names: Vec<_> = b.list_buckets().await.unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["raced", "shared"]);
    a.put_object("shared", "k", ObjectHeaders::default(), body(&[b"x"]), BodyCheck::default(), now()).await.unwrap();
    assert!(matches!(b.delete_bucket("shared").await, Err(StoreError::BucketNotEmpty)));
    b.delete_object("shared", "k").await.unwrap();
    b.create_multipart_upload("shared", "pending", ObjectHeaders::default(), now()).await.unwrap();
    b.delete_bucket("shared").await.unwrap();
    assert_eq!(a.bucket_owner("shared").await.unwrap(), None);
    assert!(matches!(a.delete_bucket("shared").await, Err(StoreError::NoSuchBucket)));
    // Made again by another account, it is theirs, with nothing of the old one.
    a.ensure_bucket("shared", "444455556666").await.unwrap();
    let listing = a.list_objects("shared", ListQuery { max_keys: 10, ..Default::default() }).await.unwrap();
    assert!(listing.objects.is_empty());
}

async fn listing_pages_and_groups_keys(a: ArtifactStore, b: ArtifactStore) {
    a.ensure_bucket("bkt", "1").await.unwrap();
    for key in ["a/1", "a/2", "b", "c/x/1", "c/y", "d", "é!"] {
        a.put_object("bkt", key, ObjectHeaders::default(), body(&[b"x"]), BodyCheck::default(), now()).await.unwrap();
    }
    let all = b.list_objects("bkt", ListQuery { max_keys: 1000, ..Default::default() }).await.unwrap();
    let keys: Vec<_> = all.objects.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["a/1", "a/2", "b", "c/x/1", "c/y", "d", "é!"]);
    assert!(all.objects.iter().all(|m| m.size == 1 && m.etag == md5_hex(b"x")));
    assert_eq!(all.next_marker, None);
    let q = ListQuery { delimiter: Some("/".into()), max_keys: 2, ..Default::default() };
    let p1 = b.list_objects("bkt", q.clone()).await.unwrap();
    assert_eq!(p1.common_prefixes, ["a/"]);
    assert_eq!(p1.objects.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["b"]);
    assert_eq!(p1.next_marker.as_deref(), Some("b"));
    let p2 = b.list_objects("bkt", ListQuery { after: p1.next_marker, ..q.clone() }).await.unwrap();
    assert_eq!(p2.common_prefixes, ["c/"]);
    assert_eq!(p2.objects.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["d"]);
    assert_eq!(p2.next_marker.as_deref(), Some("d"));
    let q = ListQuery { prefix: "c/".into(), delimiter: Some("/".into()), max_keys: 10, after: None };
    let p = b.list_objects("bkt", q).await.unwrap();
    assert_eq!(p.common_prefixes, ["c/x/"]);
    assert_eq!(p.objects.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["c/y"]);
    assert!(matches!(b.list_objects("nope", ListQuery::default()).await, Err(StoreError::NoSuchBucket)));
}

async fn copies_keep_content_etag_and_headers_under_the_new_key(a: ArtifactStore, b: ArtifactStore) {
    a.create_bucket("src", "1", now()).await.unwrap();
    a.create_bucket("dst", "1", now()).await.unwrap();
    let headers = ObjectHeaders { content_type: Some("application/zip".into()), ..Default::default() };
    let put = a
        .put_object("src", "a/b.zip", headers.clone(), body(&[b"hello ", b"world"]), BodyCheck::default(), now())
        .await
        .unwrap();
    let copy = b.copy_object("src", "a/b.zip", "dst", "p/Out/x1", now()).await.unwrap();
    assert_eq!((copy.key.as_str(), copy.size, &copy.etag, &copy.headers), ("p/Out/x1", 11, &put.etag, &headers));
    assert_eq!(a.head_object("dst", "p/Out/x1").await.unwrap(), copy);
    // The copy stands alone: replacing the source changes nothing of it.
    a.put_object("src", "a/b.zip", headers, body(&[b"other"]), BodyCheck::default(), now()).await.unwrap();
    a.delete_object("src", "a/b.zip").await.unwrap();
    assert_eq!(read(&a, "dst", "p/Out/x1", 0..11).await, b"hello world");
    assert!(matches!(b.copy_object("src", "missing", "dst", "k", now()).await, Err(StoreError::NoSuchKey)));
    assert!(matches!(b.copy_object("src", "a/b.zip", "nope", "k", now()).await, Err(StoreError::NoSuchBucket)));
}

async fn multipart_uploads_join_parts_with_aws_etag_across_nodes(a: ArtifactStore, b: ArtifactStore) {
    a.ensure_bucket("bkt", "1").await.unwrap();
    let headers = ObjectHeaders { content_type: Some("application/zip".into()), ..Default::default() };
    let id = a.create_multipart_upload("bkt", "big", headers.clone(), now()).await.unwrap();
    let big: &'static [u8] = Box::leak(vec![b'a'; MIN_PART_SIZE as usize].into_boxed_slice());
    // Part 1 through one node, part 2 through the other.
    let p1 = a.upload_part("bkt", "big", &id, 1, body(&[big]), BodyCheck::default(), now()).await.unwrap();
    let p2 = b.upload_part("bkt", "big", &id, 2, body(&[b"tail"]), BodyCheck::default(), now()).await.unwrap();
    assert_eq!(p2.etag, md5_hex(b"tail"));
    assert!(matches!(
        b.upload_part("bkt", "other", &id, 3, body(&[b"x"]), BodyCheck::default(), now()).await,
        Err(StoreError::NoSuchUpload)
    ));
    assert!(matches!(
        b.upload_part("bkt", "big", &id, 0, body(&[b"x"]), BodyCheck::default(), now()).await,
        Err(StoreError::InvalidArgument(_))
    ));
    assert!(matches!(
        b.upload_part("bkt", "big", "../../x", 1, body(&[b"x"]), BodyCheck::default(), now()).await,
        Err(StoreError::NoSuchUpload)
    ));
    let bad_part = BodyCheck { len: Some(9), md5: None };
    assert!(matches!(
        b.upload_part("bkt", "big", &id, 2, body(&[b"tail"]), bad_part, now()).await,
        Err(StoreError::IncompleteBody)
    ));
    let complete = |parts: Vec<(i32, String)>| b.complete_multipart_upload("bkt", "big", &id, parts, now());
    assert!(matches!(
        complete(vec![(2, p2.etag.clone()), (1, p1.etag.clone())]).await,
        Err(StoreError::InvalidPartOrder)
    ));
    assert!(matches!(complete(vec![(1, p2.etag.clone())]).await, Err(StoreError::InvalidPart)));
    assert!(matches!(complete(vec![(1, p1.etag.clone()), (3, p2.etag.clone())]).await, Err(StoreError::InvalidPart)));
    assert!(matches!(complete(vec![]).await, Err(StoreError::InvalidArgument(_))));
    // Refused just before it becomes visible: nothing published, the upload still there.
    let parts = vec![(1, format!("\"{}\"", p1.etag)), (2, p2.etag.clone())];
    let refused = b.backend().complete_multipart_upload("bkt", "big", &id, parts.clone(), now(), Box::new(|| false));
    assert!(matches!(refused.await, Err(StoreError::WriteRefused)));
    assert!(matches!(a.head_object("bkt", "big").await, Err(StoreError::NoSuchKey)));
    // Completed through the node that did not start it.
    let meta = complete(parts).await.unwrap();
    let mut md5s = Md5::new();
    md5s.update(Md5::digest(big));
    md5s.update(Md5::digest(b"tail"));
    assert_eq!(meta.etag, format!("{}-2", etag_of(md5s.finalize().into())));
    assert_eq!((meta.size, meta.parts, &meta.headers), (MIN_PART_SIZE + 4, Some(2), &headers));
    assert_eq!(a.head_object("bkt", "big").await.unwrap(), meta);
    assert_eq!(read(&a, "bkt", "big", MIN_PART_SIZE - 1..MIN_PART_SIZE + 4).await, b"atail");
    assert_eq!(read(&a, "bkt", "big", 0..MIN_PART_SIZE + 4).await.len() as u64, MIN_PART_SIZE + 4);
    assert!(matches!(a.abort_multipart_upload("bkt", "big", &id).await, Err(StoreError::NoSuchUpload)));
    assert!(matches!(a.abort_multipart_upload("bkt", "big", "../../x").await, Err(StoreError::NoSuchUpload)));
}

async fn small_parts_before_the_last_are_refused(a: ArtifactStore, b: ArtifactStore) {
    a.ensure_bucket("bkt", "1").await.unwrap();
    let id = a.create_multipart_upload("bkt", "k", ObjectHeaders::default(), now()).await.unwrap();
    let p1 = a.upload_part("bkt", "k", &id, 1, body(&[b"small"]), BodyCheck::default(), now()).await.unwrap();
    let p2 = b.upload_part("bkt", "k", &id, 2, body(&[b"tail"]), BodyCheck::default(), now()).await.unwrap();
    assert!(matches!(
        b.complete_multipart_upload("bkt", "k", &id, vec![(1, p1.etag.clone()), (2, p2.etag)], now()).await,
        Err(StoreError::EntityTooSmall)
    ));
    // A single small part is a whole object.
    let meta = b.complete_multipart_upload("bkt", "k", &id, vec![(1, p1.etag)], now()).await.unwrap();
    assert_eq!((meta.size, meta.parts), (5, Some(1)));
    assert_eq!(read(&a, "bkt", "k", 0..5).await, b"small");
}

async fn aborted_uploads_take_no_more_parts(a: ArtifactStore, b: ArtifactStore) {
    a.ensure_bucket("bkt", "1").await.unwrap();
    let id = a.create_multipart_upload("bkt", "k", ObjectHeaders::default(), now()).await.unwrap();
    let p1 = a.upload_part("bkt", "k", &id, 1, body(&[b"x"]), BodyCheck::default(), now()).await.unwrap();
    assert!(matches!(b.abort_multipart_upload("bkt", "other", &id).await, Err(StoreError::NoSuchUpload)));
    b.abort_multipart_upload("bkt", "k", &id).await.unwrap();
    assert!(matches!(
        a.upload_part("bkt", "k", &id, 2, body(&[b"x"]), BodyCheck::default(), now()).await,
        Err(StoreError::NoSuchUpload)
    ));
    assert!(matches!(
        a.complete_multipart_upload("bkt", "k", &id, vec![(1, p1.etag)], now()).await,
        Err(StoreError::NoSuchUpload)
    ));
    assert!(matches!(a.head_object("bkt", "k").await, Err(StoreError::NoSuchKey)));
}

async fn a_part_sent_again_replaces_the_first(a: ArtifactStore, b: ArtifactStore) {
    a.ensure_bucket("bkt", "1").await.unwrap();
    let id = a.create_multipart_upload("bkt", "k", ObjectHeaders::default(), now()).await.unwrap();
    let first = a.upload_part("bkt", "k", &id, 1, body(&[b"first"]), BodyCheck::default(), now()).await.unwrap();
    let second = b.upload_part("bkt", "k", &id, 1, body(&[b"second"]), BodyCheck::default(), now()).await.unwrap();
    assert!(matches!(
        a.complete_multipart_upload("bkt", "k", &id, vec![(1, first.etag)], now()).await,
        Err(StoreError::InvalidPart)
    ));
    a.complete_multipart_upload("bkt", "k", &id, vec![(1, second.etag)], now()).await.unwrap();
    assert_eq!(read(&b, "bkt", "k", 0..6).await, b"second");
}

async fn large_bodies_stream_whole(a: ArtifactStore, b: ArtifactStore) {
    a.ensure_bucket("bkt", "1").await.unwrap();
    // Larger than one backend part, in odd-sized chunks.
    let data: Vec<u8> = (0..9 * 1024 * 1024 + 7).map(|i: u32| (i % 251) as u8).collect();
    let chunks: Vec<Bytes> = data.chunks(100_003).map(Bytes::copy_from_slice).collect();
    let stream = |chunks: Vec<Bytes>| futures::stream::iter(chunks.into_iter().map(Ok::<_, io::Error>));
    let check = BodyCheck { len: Some(data.len() as u64), md5: Some(Md5::digest(&data).into()) };
    let meta =
        a.put_object("bkt", "big", ObjectHeaders::default(), stream(chunks.clone()), check, now()).await.unwrap();
    assert_eq!((meta.size, meta.etag.clone()), (data.len() as u64, md5_hex(&data)));
    assert_eq!(read(&b, "bkt", "big", 0..meta.size).await, data);
    // A large body that turns out to be short publishes nothing.
    let short = BodyCheck { len: Some(data.len() as u64 + 1), md5: None };
    let err = a.put_object("bkt", "big", ObjectHeaders::default(), stream(chunks), short, now()).await;
    assert!(matches!(err, Err(StoreError::IncompleteBody)));
    assert_eq!(b.head_object("bkt", "big").await.unwrap(), meta);
}

async fn deletes_are_seen_by_every_node(a: ArtifactStore, b: ArtifactStore) {
    a.ensure_bucket("bkt", "1").await.unwrap();
    a.put_object("bkt", "k", ObjectHeaders::default(), body(&[b"v1"]), BodyCheck::default(), now()).await.unwrap();
    b.put_object("bkt", "k", ObjectHeaders::default(), body(&[b"v2"]), BodyCheck::default(), now()).await.unwrap();
    assert_eq!(read(&a, "bkt", "k", 0..2).await, b"v2");
    b.delete_object("bkt", "k").await.unwrap();
    assert!(matches!(a.head_object("bkt", "k").await, Err(StoreError::NoSuchKey)));
    a.delete_object("bkt", "k").await.unwrap();
    assert!(matches!(a.delete_object("nope", "k").await, Err(StoreError::NoSuchBucket)));
}

async fn blocking_calls_work_from_domain_threads(a: ArtifactStore, b: ArtifactStore) {
    a.ensure_bucket("src", "111111111111").await.unwrap();
    a.put_object("src", "in.zip", ObjectHeaders::default(), body(&[b"zip"]), BodyCheck::default(), now())
        .await
        .unwrap();
    // As the service's domain code calls them: on the runtime's blocking threads.
    let copied = tokio::task::spawn_blocking(move || {
        b.ensure_bucket_blocking("art", "111111111111").unwrap();
        assert!(matches!(b.ensure_bucket_blocking("art", "222222222222"), Err(StoreError::BucketExists { .. })));
        assert_eq!(b.bucket_owner_blocking("art").unwrap().as_deref(), Some("111111111111"));
        b.copy_object_blocking("src", "in.zip", "art", "p/Src/1", now()).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(copied.etag, md5_hex(b"zip"));
    // And on a worker thread itself.
    assert_eq!(a.bucket_owner_blocking("art").unwrap().as_deref(), Some("111111111111"));
    assert_eq!(read(&a, "art", "p/Src/1", 0..3).await, b"zip");
}

/// A shared store that does not answer fails fast, as `Unavailable` (SlowDown to the
/// client); one whose bucket is missing fails as `Backend` (InternalError): never a
/// hang, never "no such key".
#[tokio::test]
async fn a_shared_store_that_is_down_or_misconfigured_says_so_quickly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut down = RemoteSettings::new(&format!("http://127.0.0.1:{port}"), "us-east-1", "b");
    down.credentials = Some(("testing".into(), "testing".into()));
    down.retry_timeout = Duration::from_secs(2);
    let store = ArtifactStore::new(Arc::new(RemoteBackend::new(&down).unwrap()));
    let started = std::time::Instant::now();
    assert!(matches!(store.bucket_owner("bkt").await, Err(StoreError::Unavailable(_))));
    let put = store.put_object("bkt", "k", ObjectHeaders::default(), body(&[b"x"]), BodyCheck::default(), now());
    assert!(matches!(put.await, Err(StoreError::Unavailable(_))));
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());

    let Some(mut missing) = moto_settings() else { return };
    missing.bucket = "no-such-backend-bucket".into();
    let store = ArtifactStore::new(Arc::new(RemoteBackend::new(&missing).unwrap()));
    match store.bucket_owner("bkt").await {
        Err(StoreError::Backend(cause)) => assert!(cause.contains("NoSuchBucket"), "{cause}"),
        other => panic!("a missing backend bucket is the configuration's error: {other:?}"),
    }
    let backend = RemoteBackend::new(&missing).unwrap();
    assert!(matches!(backend.check().await, Err(StoreError::Backend(_))));
}
