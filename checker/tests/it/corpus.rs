//! Every history of the shared known-answer corpus gets its labelled verdict (LABELS.md in
//! the corpus folder states the semantics the labels assume). Skipped when the corpus is
//! absent, as in a fresh clone.

use std::path::{Path, PathBuf};

use checker::Validity;
use checker::formats::{Format, read_history};
use checker::lin::{LinOptions, ModelKind, NilRead, check_linearizable};
use serde_json::json;

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        println!("corpus not found at {}: skipped", dir.display());
        None
    }
}

fn edn_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "edn"))
        .collect();
    files.sort();
    files
}

fn knossos(model: ModelKind, initial: serde_json::Value) -> LinOptions {
    let mut opts = LinOptions::new(model);
    opts.initial = Some(initial);
    opts.nil_read = NilRead::Unknown;
    opts
}

fn verdict(path: &Path, format: Format, opts: &LinOptions) -> Validity {
    let events = read_history(path, Some(format))
        .unwrap_or_else(|e| panic!("{e}"))
        .events;
    let result =
        check_linearizable(&events, opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if result.valid == Validity::Invalid {
        let failure = result
            .failure
            .as_ref()
            .expect("an invalid verdict has a witness");
        assert!(
            !failure.states.is_empty(),
            "{}: a witness lists the states",
            path.display()
        );
    }
    result.valid
}

#[test]
fn knossos_histories_get_their_labels() {
    let Some(corpus) = corpus() else { return };
    let cas = knossos(ModelKind::CasRegister, json!(0));
    let mut checked = 0;
    for (dir, expected) in [("good", Validity::Valid), ("bad", Validity::Invalid)] {
        for file in edn_files(&corpus.join("knossos/cas-register").join(dir)) {
            assert_eq!(
                verdict(&file, Format::Edn, &cas),
                expected,
                "{}",
                file.display()
            );
            checked += 1;
        }
    }
    let multi = knossos(ModelKind::MultiRegister, json!({"x": 0, "y": 0}));
    let file = corpus.join("knossos/multi-register/good/multi-register.edn");
    assert_eq!(verdict(&file, Format::Edn, &multi), Validity::Valid);
    let mutex = knossos(ModelKind::Mutex, json!(false));
    let file = corpus.join("knossos/mutex/bad/etcd.edn");
    assert_eq!(verdict(&file, Format::Edn, &mutex), Validity::Invalid);
    checked += 2;
    assert_eq!(
        checked, 122,
        "the corpus has 113 + 7 cas-register files, one multi-register, one mutex"
    );
}

#[test]
fn porcupine_kv_histories_get_their_labels() {
    let Some(corpus) = corpus() else { return };
    let mut opts = LinOptions::new(ModelKind::Kv);
    opts.initial = Some(json!(""));
    for name in ["c01", "c10", "c50"] {
        for (suffix, expected) in [("ok", Validity::Valid), ("bad", Validity::Invalid)] {
            let file = corpus.join(format!("porcupine-kv/{name}-{suffix}.txt"));
            assert_eq!(
                verdict(&file, Format::PorcupineKv, &opts),
                expected,
                "{}",
                file.display()
            );
        }
    }
}

/// Every history of the corpus labelled not linearizable is explained by a witness of a few
/// ops or, where none exists, by the reason each state is excluded; the kinds are printed.
#[test]
fn every_invalid_corpus_history_has_a_witness_or_a_reason() {
    let Some(corpus) = corpus() else { return };
    let cas = knossos(ModelKind::CasRegister, json!(0));
    let mut kv = LinOptions::new(ModelKind::Kv);
    kv.initial = Some(json!(""));
    let mut files: Vec<(PathBuf, Format, &LinOptions)> =
        edn_files(&corpus.join("knossos/cas-register/bad"))
            .into_iter()
            .map(|f| (f, Format::Edn, &cas))
            .collect();
    for name in ["c01", "c10", "c50"] {
        files.push((
            corpus.join(format!("porcupine-kv/{name}-bad.txt")),
            Format::PorcupineKv,
            &kv,
        ));
    }
    for (file, format, opts) in files {
        let events = read_history(&file, Some(format))
            .unwrap_or_else(|e| panic!("{e}"))
            .events;
        let result = check_linearizable(&events, opts).unwrap();
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let failure = result
            .failure
            .unwrap_or_else(|| panic!("{name}: not linearizable, with a failure"));
        match &failure.witness {
            Some(w) => println!("{name}: witness {}", w.kind),
            None => {
                println!("{name}: no witness; {}", failure.explanation);
                assert!(
                    failure
                        .states
                        .iter()
                        .take(4)
                        .all(|s| !s.why.is_empty() && failure.explanation.contains(&s.why)),
                    "{name}: {failure}"
                );
            }
        }
    }
}
