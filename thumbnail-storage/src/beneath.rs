//! A local folder that nothing outside it is reached through. Every path is resolved beneath
//! the store's folder without following a symlink: `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS)` where the kernel has it (5.6 and later), else one `O_NOFOLLOW`
//! `openat` per component from the folder's own descriptor. Only regular files and folders
//! are objects: a symlink, FIFO, socket or device is "not found" to reads, writes, lists and
//! deletes alike, and is never opened for writing, removed or listed (as nginx's
//! `disable_symlinks on`). Special files are opened non-blocking, so a FIFO cannot hang a
//! thread.
//!
//! Errors are `io::Error`s whose kinds say what the store answers: `NotFound` (missing, or
//! not a regular file), `NotADirectory` (a file stands where a folder must be), `IsADirectory`
//! (a folder stands where the object must be).

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag, openat, openat2, renameat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, unlinkat};

/// The store's folder, held open: every path below is resolved from this descriptor, so a
/// folder renamed or replaced by a link after the start is not followed either.
#[derive(Debug)]
pub(crate) struct Beneath {
    root: OwnedFd,
}

/// An object found by a listing: its key below the folder and what `fstatat` said of it.
pub(crate) struct Listed {
    pub key: String,
    pub stat: FileStat,
}

/// Whether `openat2` answered ENOSYS once (an older kernel, or a sandbox that filters it).
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

impl Beneath {
    pub(crate) fn open(root: &Path) -> io::Result<Self> {
        let root = nix::fcntl::open(root, DIR_FLAGS, Mode::empty())?;
        Ok(Beneath { root })
    }

    /// Opens the regular file `key` to read.
    pub(crate) fn open_file(&self, key: &str) -> io::Result<File> {
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let fd = if NO_OPENAT2.load(Ordering::Relaxed) {
            self.walk_open(key, flags)
        } else {
            let how = OpenHow::new()
                .flags(flags)
                .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
            match openat2(&self.root, key, how) {
                Err(Errno::ENOSYS) => {
                    NO_OPENAT2.store(true, Ordering::Relaxed);
                    self.walk_open(key, flags)
                }
                other => other.map_err(not_followed),
            }
        }?;
        let file = File::from(fd);
        if !file.metadata()?.is_file() {
            return Err(not_an_object());
        }
        Ok(file)
    }

    fn walk_open(&self, key: &str, flags: OFlag) -> io::Result<OwnedFd> {
        let (parents, name) = split(key);
        let dir = self.dir(&parents, false)?;
        openat(&dir, name, flags, Mode::empty()).map_err(not_followed)
    }

    /// The folder `segments` below the root, made (and each parent) when `create`.
    fn dir(&self, segments: &[&str], create: bool) -> io::Result<OwnedFd> {
        let mut fd = self.root.try_clone()?;
        for segment in segments {
            let next = match openat(&fd, *segment, DIR_FLAGS, Mode::empty()) {
                Err(Errno::ENOENT) if create => {
                    match mkdirat(&fd, *segment, Mode::from_bits_truncate(0o755)) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    openat(&fd, *segment, DIR_FLAGS, Mode::empty())
                }
                other => other,
            };
            fd = match next {
                Ok(next) => next,
                // O_NOFOLLOW with O_DIRECTORY says ENOTDIR of a link too: a link is not
                // followed (no object there), a file stands where the folder must be.
                Err(Errno::ENOTDIR) => {
                    let st = fstatat(&fd, *segment, AtFlags::AT_SYMLINK_NOFOLLOW)?;
                    return Err(match kind(&st) {
                        SFlag::S_IFREG => io::ErrorKind::NotADirectory.into(),
                        _ => not_an_object(),
                    });
                }
                Err(e) => return Err(not_followed(e)),
            };
        }
        Ok(fd)
    }

    /// Writes `bytes` as `key`: a temporary file beside it (`name#N`), fsync, rename over the
    /// old object, fsync of the folder. A folder, a link or a special file at `key` is
    /// refused, untouched.
    pub(crate) fn put(&self, key: &str, bytes: &[u8]) -> io::Result<File> {
        let (parents, name) = split(key);
        let dir = self.dir(&parents, true)?;
        match fstatat(&dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) if kind(&st) == SFlag::S_IFDIR => return Err(io::ErrorKind::IsADirectory.into()),
            Ok(st) if kind(&st) != SFlag::S_IFREG => return Err(not_an_object()),
            Ok(_) | Err(Errno::ENOENT) => {}
            Err(e) => return Err(e.into()),
        }
        let temp = temporary_name(name);
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let mut file = File::from(openat(
            &dir,
            temp.as_str(),
            flags,
            Mode::from_bits_truncate(0o644),
        )?);
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| renameat(&dir, temp.as_str(), &dir, name).map_err(io::Error::from));
        if let Err(e) = written {
            let _ = unlinkat(&dir, temp.as_str(), UnlinkatFlags::NoRemoveDir);
            return Err(e);
        }
        File::from(dir).sync_all()?;
        Ok(file)
    }

    /// Removes the regular file `key`; nothing there is no error; a link, special file or
    /// folder there is refused (`NotFound`), untouched.
    pub(crate) fn delete(&self, key: &str) -> io::Result<()> {
        let (parents, name) = split(key);
        let dir = match self.dir(&parents, false) {
            Ok(dir) => dir,
            Err(e) if matches!(e.kind(), io::ErrorKind::NotADirectory) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(Errno::ENOENT as i32) => return Ok(()),
            Err(e) => return Err(e),
        };
        match fstatat(&dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(e.into()),
            Ok(st) if kind(&st) == SFlag::S_IFREG => {
                unlinkat(&dir, name, UnlinkatFlags::NoRemoveDir)?;
                Ok(())
            }
            Ok(_) => Err(not_an_object()),
        }
    }

    /// The regular files below the folder `prefix` (`""` for all), at any depth; links,
    /// special files and temporary files are passed over, and linked folders not entered.
    pub(crate) fn list(&self, prefix: &str) -> io::Result<Vec<Listed>> {
        let segments: Vec<&str> = prefix.split('/').filter(|s| !s.is_empty()).collect();
        let dir = match self.dir(&segments, false) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        walk(dir, &segments.join("/"), &mut |key, stat, temporary| {
            if temporary.is_none() {
                out.push(Listed { key, stat });
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Removes temporary files (`name#N`) last modified before `cutoff`; returns how many.
    pub(crate) fn clean(&self, cutoff: SystemTime) -> io::Result<usize> {
        let mut removed = 0;
        let mut visit = |_: String, stat: FileStat, at: Option<(&OwnedFd, &OsStr)>| {
            if let Some((dir, name)) = at
                && modified(&stat) < cutoff
            {
                unlinkat(dir, name, UnlinkatFlags::NoRemoveDir)?;
                removed += 1;
            }
            Ok(())
        };
        walk(self.root.try_clone()?, "", &mut visit)?;
        Ok(removed)
    }

    /// Whether the folder is still there (and a folder).
    pub(crate) fn check(&self) -> io::Result<()> {
        File::from(self.root.try_clone()?).metadata().map(|_| ())
    }
}

/// What `walk` calls for each regular file: its key, its stat, and for a temporary file its
/// folder and name (so `clean` can remove it).
type Visit<'a> = dyn FnMut(String, FileStat, Option<(&OwnedFd, &OsStr)>) -> io::Result<()> + 'a;

/// Visits every regular file below `dir` (whose key prefix is `at`). Never follows a link.
fn walk(dir: OwnedFd, at: &str, visit: &mut Visit<'_>) -> io::Result<()> {
    let names: Vec<Vec<u8>> = {
        let mut listing = nix::dir::Dir::from_fd(dir.try_clone()?)?;
        listing
            .iter()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_bytes().to_vec())
            .filter(|n| n != b"." && n != b"..")
            .collect()
    };
    for raw in names {
        let name = OsStr::from_bytes(&raw);
        let Ok(stat) = fstatat(&dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) else {
            continue;
        };
        let Some(text) = name.to_str() else { continue };
        let key = if at.is_empty() {
            text.to_string()
        } else {
            format!("{at}/{text}")
        };
        match kind(&stat) {
            SFlag::S_IFDIR => {
                if let Ok(sub) = openat(&dir, name, DIR_FLAGS, Mode::empty()) {
                    walk(sub, &key, visit)?;
                }
            }
            SFlag::S_IFREG if crate::local_read::is_temporary(text) => {
                visit(key, stat, Some((&dir, name)))?
            }
            SFlag::S_IFREG => visit(key, stat, None)?,
            _ => {}
        }
    }
    Ok(())
}

fn split(key: &str) -> (Vec<&str>, &str) {
    let mut segments: Vec<&str> = key.split('/').collect();
    let name = segments.pop().unwrap_or_default();
    (segments, name)
}

fn kind(stat: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits())
}

/// A component that is a link (ELOOP), or a path that would leave the folder (EXDEV from
/// RESOLVE_BENEATH), is not followed: the object is not there.
fn not_followed(e: Errno) -> io::Error {
    match e {
        Errno::ELOOP | Errno::EXDEV | Errno::ENXIO => not_an_object(),
        Errno::ENOTDIR => io::ErrorKind::NotFound.into(),
        e => e.into(),
    }
}

fn not_an_object() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        "not a regular file (links and special files are not objects)",
    )
}

/// `name#N`, digits only after the `#`: the same form object_store used, so a folder written
/// by either is cleaned the same way, and keys of that form are refused.
fn temporary_name(name: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{name}#{}{n:06}", std::process::id())
}

pub(crate) fn modified(stat: &FileStat) -> SystemTime {
    let secs = u64::try_from(stat.st_mtime).unwrap_or(0);
    let nanos = u32::try_from(stat.st_mtime_nsec).unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
}

/// The ETag object_store's local store gave (inode, mtime in microseconds, size), so
/// thumbnails that recorded one still match.
pub(crate) fn etag(stat: &FileStat) -> String {
    let micros = modified(stat)
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros();
    format!("\"{:x}-{micros:x}-{:x}\"", stat.st_ino, stat.st_size)
}

/// The first bytes of a file (for its content type).
pub(crate) fn head_bytes(file: &File, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    file.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// `fstat` of an open file as `FileStat`.
pub(crate) fn stat(file: &File) -> io::Result<FileStat> {
    Ok(nix::sys::stat::fstat(file.as_fd())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk older kernels get refuses what openat2 refuses: a link at the end or on the
    /// way, and a FIFO (without blocking).
    #[test]
    fn the_walk_without_openat2_follows_no_link() {
        let dir = tempfile::tempdir().unwrap();
        let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("secret"), b"s").unwrap();
        std::fs::write(root.join("real/ok"), b"ok").unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), root.join("real/link")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("linked")).unwrap();
        nix::unistd::mkfifo(&root.join("pipe"), Mode::from_bits_truncate(0o644)).unwrap();
        let b = Beneath::open(&root).unwrap();
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        assert!(b.walk_open("real/ok", flags).is_ok());
        for key in ["real/link", "linked/secret", "missing/x"] {
            let e = b.walk_open(key, flags).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::NotFound, "{key}: {e}");
        }
        // The FIFO opens (non-blocking) but is no object.
        let fd = b.walk_open("pipe", flags).unwrap();
        assert!(!File::from(fd).metadata().unwrap().is_file());
    }
}
