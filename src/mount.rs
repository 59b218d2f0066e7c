//! The `--mount=` option string: one [`MountSpec`], parsed per engine dialect.
//!
//! The grammar follows `../shared/design/semantics.md` §1 and, for Buildah 1.28, what the real
//! binary did here (see the README's "Model findings"). Every error names the option and the value.

use std::fmt;

/// Which engine's option grammar to apply: they differ in case, bare flags and accepted values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// BuildKit's `parseMount`: case-insensitive keys, `ro=true|false`, `sharing=private` accepted.
    BuildKit,
    /// Current Buildah: case-sensitive keys, bare-only flags, no `private`, no empty `id=`.
    Buildah,
    /// Buildah 1.28: as current, but `id=` may be empty, `ro=true` passes, `rw` is rejected and a
    /// bare `sharing` panics.
    Buildah128,
    /// Upstream Buildah's draft private pool (buildah#7127, unreleased): as current, and
    /// `sharing=private` is accepted.
    BuildahPool,
}

/// The `type=` of a mount; only `cache` is modelled, the others are parsed so errors are right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MountType {
    /// `type=bind` (BuildKit's default type).
    Bind,
    /// `type=cache`, the subject of this crate.
    Cache,
    /// `type=tmpfs`.
    Tmpfs,
    /// `type=secret`.
    Secret,
    /// `type=ssh`.
    Ssh,
}

impl MountType {
    fn name(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Cache => "cache",
            MountType::Tmpfs => "tmpfs",
            MountType::Secret => "secret",
            MountType::Ssh => "ssh",
        }
    }
}

/// `sharing=`: how concurrent builds share one cache key (semantics.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Sharing {
    /// Every concurrent user mounts the same directory.
    #[default]
    Shared,
    /// Each concurrent user gets an instance nobody else holds (BuildKit only).
    Private,
    /// One holder at a time; the others wait.
    Locked,
}

impl Sharing {
    /// All modes, in a fixed order (for matrices and generators).
    pub const ALL: [Sharing; 3] = [Sharing::Shared, Sharing::Private, Sharing::Locked];

    /// The option value as written in `sharing=`.
    pub fn name(self) -> &'static str {
        match self {
            Sharing::Shared => "shared",
            Sharing::Private => "private",
            Sharing::Locked => "locked",
        }
    }
}

impl fmt::Display for Sharing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Sharing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "shared" => Ok(Sharing::Shared),
            "private" => Ok(Sharing::Private),
            "locked" => Ok(Sharing::Locked),
            _ => Err(format!(
                "unknown sharing mode {s:?} (want shared, private or locked)"
            )),
        }
    }
}

/// One parsed `--mount=` option string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MountSpec {
    /// `type=`.
    pub kind: MountType,
    /// `target=` / `dst=` / `destination=`, as written (not yet cleaned or made absolute).
    pub target: String,
    /// `id=`; `None` when absent (Buildah 1.28 also maps an empty `id=` to `None`).
    pub id: Option<String>,
    /// `source=` / `src=`.
    pub source: Option<String>,
    /// `from=`.
    pub from: Option<String>,
    /// `ro` / `readonly`.
    pub readonly: bool,
    /// `sharing=`; [`Sharing::Shared`] when absent.
    pub sharing: Sharing,
    /// `mode=`, parsed as octal.
    pub mode: Option<u32>,
    /// `uid=`, decimal.
    pub uid: Option<u32>,
    /// `gid=`, decimal.
    pub gid: Option<u32>,
    /// Buildah's bare flags kept verbatim (`z`, `Z`, `U`, `nosuid`, `nodev`, `noexec`, propagation).
    pub flags: Vec<String>,
}

impl MountSpec {
    /// A cache mount on `target` with every other option absent.
    pub fn cache(target: &str) -> MountSpec {
        MountSpec {
            kind: MountType::Cache,
            target: target.to_string(),
            id: None,
            source: None,
            from: None,
            readonly: false,
            sharing: Sharing::Shared,
            mode: None,
            uid: None,
            gid: None,
            flags: Vec::new(),
        }
    }
}

/// A rejected option string: which option, which value, what is wrong (as the engine says it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountError {
    /// The option's key as written (`sharing`, `uid`, …), or the whole string for global errors.
    pub option: String,
    /// The value as written, if the option had one.
    pub value: Option<String>,
    /// The engine's complaint.
    pub problem: String,
}

impl fmt::Display for MountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "mount option `{}={}`: {}", self.option, v, self.problem),
            None => write!(f, "mount option `{}`: {}", self.option, self.problem),
        }
    }
}

impl std::error::Error for MountError {}

fn err(option: &str, value: Option<&str>, problem: impl Into<String>) -> MountError {
    MountError {
        option: option.to_string(),
        value: value.map(str::to_string),
        problem: problem.into(),
    }
}

const BUILDAH_BARE: &[&str] = &[
    "ro",
    "readonly",
    "rw",
    "readwrite",
    "z",
    "Z",
    "U",
    "nosuid",
    "nodev",
    "noexec",
    "shared",
    "rshared",
    "private",
    "rprivate",
    "slave",
    "rslave",
];

/// Parses the option string of one `--mount=` flag in the given dialect.
pub fn parse(input: &str, dialect: Dialect) -> Result<MountSpec, MountError> {
    let mut spec = MountSpec::cache("");
    let mut kind: Option<MountType> = None;
    let mut sharing_written = false;
    let fields: Vec<String> = match dialect {
        Dialect::BuildKit => csv_fields(input)?,
        _ => input.split(',').map(str::to_string).collect(),
    };
    for field in &fields {
        let field = field.as_str();
        if field.is_empty() {
            continue;
        }
        let (raw_key, value) = match field.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (field, None),
        };
        let lowered;
        let key = if dialect == Dialect::BuildKit {
            lowered = raw_key.to_ascii_lowercase();
            lowered.as_str()
        } else {
            raw_key
        };
        match dialect {
            Dialect::BuildKit => buildkit_field(&mut spec, &mut kind, key, raw_key, value)?,
            Dialect::Buildah | Dialect::Buildah128 | Dialect::BuildahPool => {
                buildah_field(&mut spec, &mut kind, dialect, key, value)?
            }
        }
        if key == "sharing" {
            sharing_written = true;
        }
    }
    spec.kind = kind.unwrap_or(match dialect {
        Dialect::BuildKit => MountType::Bind,
        _ => MountType::Cache,
    });
    validate(&spec, dialect, sharing_written)?;
    Ok(spec)
}

/// BuildKit reads `--mount`'s value as one CSV record (frontend/dockerfile/instructions,
/// runmount.go, via csvvalue): a field that starts with a double quote may hold commas, and
/// `""` in it is one quote; a quote inside an unquoted field is kept as text.
pub fn csv_fields(input: &str) -> Result<Vec<String>, MountError> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(err("", Some(input), "an unterminated \" in the CSV value"));
                    }
                }
            }
            if !matches!(chars.peek(), None | Some(',')) {
                return Err(err(
                    "",
                    Some(input),
                    "text after a closing \" in the CSV value",
                ));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                // A quote inside an unquoted field is kept (lazy quotes); the expansion of
                // the value removes it (`target="/root/.cache"`, seen in real Dockerfiles).
                field.push(c);
                chars.next();
            }
        }
        out.push(field);
        if chars.next().is_none() {
            return Ok(out);
        }
    }
}

fn parse_mode(key: &str, v: &str, problem: &str) -> Result<u32, MountError> {
    u32::from_str_radix(v, 8).map_err(|_| err(key, Some(v), problem))
}

fn parse_dec(key: &str, v: &str, problem: &str) -> Result<u32, MountError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(key, Some(v), problem));
    }
    v.parse::<u32>().map_err(|_| err(key, Some(v), problem))
}

fn parse_type(key: &str, v: &str, problem: &str) -> Result<MountType, MountError> {
    match v {
        "bind" => Ok(MountType::Bind),
        "cache" => Ok(MountType::Cache),
        "tmpfs" => Ok(MountType::Tmpfs),
        "secret" => Ok(MountType::Secret),
        "ssh" => Ok(MountType::Ssh),
        _ => Err(err(key, Some(v), problem)),
    }
}

fn buildkit_field(
    spec: &mut MountSpec,
    kind: &mut Option<MountType>,
    key: &str,
    raw_key: &str,
    value: Option<&str>,
) -> Result<(), MountError> {
    let Some(v) = value else {
        return match key {
            "ro" | "readonly" => {
                spec.readonly = true;
                Ok(())
            }
            "rw" | "readwrite" => {
                spec.readonly = false;
                Ok(())
            }
            _ => Err(err(
                raw_key,
                None,
                "unexpected key (a bare key must be ro or rw)",
            )),
        };
    };
    let invalid = "invalid value";
    match key {
        "type" => *kind = Some(parse_type(raw_key, v, "unsupported mount type")?),
        "target" | "dst" | "destination" => spec.target = v.to_string(),
        "id" => spec.id = Some(v.to_string()),
        "source" | "src" => spec.source = Some(v.to_string()),
        "from" => spec.from = Some(v.to_string()),
        "ro" | "readonly" => spec.readonly = parse_bool(raw_key, v)?,
        "rw" | "readwrite" => spec.readonly = !parse_bool(raw_key, v)?,
        "sharing" => {
            spec.sharing = match v.to_ascii_lowercase().as_str() {
                "" | "shared" => Sharing::Shared,
                "private" => Sharing::Private,
                "locked" => Sharing::Locked,
                _ => {
                    return Err(err(
                        raw_key,
                        Some(v),
                        "unsupported sharing value (want shared, private or locked)",
                    ));
                }
            }
        }
        "mode" => spec.mode = Some(parse_mode(raw_key, v, invalid)?),
        "uid" => spec.uid = Some(parse_dec(raw_key, v, invalid)?),
        "gid" => spec.gid = Some(parse_dec(raw_key, v, invalid)?),
        _ => return Err(err(raw_key, Some(v), "unexpected key")),
    }
    Ok(())
}

fn parse_bool(key: &str, v: &str) -> Result<bool, MountError> {
    // Go's strconv.ParseBool.
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(err(key, Some(v), "invalid value (want true or false)")),
    }
}

fn buildah_field(
    spec: &mut MountSpec,
    kind: &mut Option<MountType>,
    dialect: Dialect,
    key: &str,
    value: Option<&str>,
) -> Result<(), MountError> {
    if BUILDAH_BARE.contains(&key) {
        if value.is_some() && matches!(dialect, Dialect::Buildah | Dialect::BuildahPool) {
            return Err(err(key, value, "option does not take an argument"));
        }
        match key {
            // 1.28 accepts `ro=true` and mounts read-only (seen with the real binary).
            "ro" | "readonly" => spec.readonly = true,
            "rw" | "readwrite" if dialect == Dialect::Buildah128 => {
                // 1.28 adds `rw` itself, then rejects a second one (seen with the real binary).
                return Err(err(key, value, "can only specify 1 'rw' or 'ro' option"));
            }
            "rw" | "readwrite" => spec.readonly = false,
            _ => {
                if value.is_none() && !spec.flags.iter().any(|f| f == key) {
                    spec.flags.push(key.to_string());
                }
            }
        }
        return Ok(());
    }
    let takes_value = matches!(
        key,
        "type"
            | "target"
            | "dst"
            | "destination"
            | "src"
            | "source"
            | "from"
            | "id"
            | "mode"
            | "uid"
            | "gid"
            | "sharing"
    );
    if !takes_value {
        return Err(err(key, value, "invalid mount option"));
    }
    let Some(v) = value else {
        if key == "sharing" && dialect == Dialect::Buildah128 {
            // GetCacheMount indexes kv[1] of a one-element split (real 1.28 here:
            // `panic: runtime error: index out of range [1] with length 1`).
            return Err(err(
                key,
                None,
                "buildah 1.28 crashes here (panic: index out of range [1] with length 1)",
            ));
        }
        return Err(err(key, None, "must provide an argument for option"));
    };
    match key {
        "type" => *kind = Some(parse_type(key, v, "invalid filesystem type")?),
        "target" | "dst" | "destination" => spec.target = v.to_string(),
        "src" | "source" => spec.source = Some(v.to_string()),
        "from" => spec.from = Some(v.to_string()),
        "id" => {
            if v.is_empty() {
                if matches!(dialect, Dialect::Buildah | Dialect::BuildahPool) {
                    return Err(err(key, Some(v), "must provide an argument for option"));
                }
                spec.id = None; // 1.28: an empty id falls back to the target.
            } else {
                spec.id = Some(v.to_string());
            }
        }
        "mode" => spec.mode = Some(parse_mode(key, v, "unable to parse cache mode")?),
        "uid" => spec.uid = Some(parse_dec(key, v, "unable to parse cache uid")?),
        "gid" => spec.gid = Some(parse_dec(key, v, "unable to parse cache gid")?),
        "sharing" => {
            spec.sharing = match v {
                "shared" => Sharing::Shared,
                "locked" => Sharing::Locked,
                "private" if dialect == Dialect::BuildahPool => Sharing::Private,
                _ => {
                    return Err(err(
                        key,
                        Some(v),
                        "unrecognized value for field sharing (want shared or locked)",
                    ));
                }
            }
        }
        _ => unreachable!("takes_value covers exactly these keys"),
    }
    Ok(())
}

fn validate(spec: &MountSpec, dialect: Dialect, sharing_written: bool) -> Result<(), MountError> {
    let whole = |problem: &str| err("type", Some(spec.kind.name()), problem);
    if dialect == Dialect::BuildKit {
        if sharing_written && spec.kind != MountType::Cache {
            return Err(whole("sharing is only valid for cache mounts"));
        }
        if (spec.mode.is_some() || spec.uid.is_some() || spec.gid.is_some())
            && matches!(spec.kind, MountType::Bind | MountType::Tmpfs)
        {
            return Err(whole("mode, uid and gid are not valid for this mount type"));
        }
        if spec.target.is_empty() && !matches!(spec.kind, MountType::Secret | MountType::Ssh) {
            return Err(err("target", None, "mount target is required"));
        }
        if spec.target == "/" {
            return Err(err("target", Some("/"), "invalid mount target"));
        }
    } else if spec.target.is_empty() {
        return Err(err("target", None, "must set volume destination"));
    }
    Ok(())
}

/// Writes the spec back as an option string that [`parse`] reads to the same spec in `dialect`.
pub fn display(spec: &MountSpec, dialect: Dialect) -> String {
    let mut out = vec![format!("type={}", spec.kind.name())];
    out.push(format!("target={}", spec.target));
    if let Some(id) = &spec.id {
        out.push(format!("id={id}"));
    }
    if let Some(s) = &spec.source {
        out.push(format!("source={s}"));
    }
    if let Some(s) = &spec.from {
        out.push(format!("from={s}"));
    }
    if spec.sharing != Sharing::Shared {
        out.push(format!("sharing={}", spec.sharing));
    }
    if let Some(m) = spec.mode {
        out.push(format!("mode=0{m:o}"));
    }
    if let Some(u) = spec.uid {
        out.push(format!("uid={u}"));
    }
    if let Some(g) = spec.gid {
        out.push(format!("gid={g}"));
    }
    if spec.readonly {
        out.push("ro".into());
    }
    if dialect != Dialect::BuildKit {
        out.extend(spec.flags.iter().cloned());
    }
    out.join(",")
}

impl fmt::Display for MountSpec {
    /// The Buildah form (a superset of what BuildKit writes for cache mounts).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&display(self, Dialect::Buildah))
    }
}
