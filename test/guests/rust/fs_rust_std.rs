// Rust std::fs over WASI: create a directory tree, write, read, append, rename, list, metadata,
// symlinks (read side), remove. Prints one line per step; errors are printed as their io::ErrorKind.
// argv[1] is the directory to work in (a preopen, e.g. /sandbox).
use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

fn kind<T>(r: std::io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("{:?} errno={}", e.kind(), e.raw_os_error().unwrap_or(-1)),
    }
}

fn main() {
    let base = std::env::args().nth(1).expect("usage: fs_rust_std DIR");
    let base = Path::new(&base);
    let dir = base.join("work");
    println!("create_dir_all {}", kind(fs::create_dir_all(dir.join("a/b"))));
    println!("create_dir_again {}", kind(fs::create_dir(dir.join("a"))));
    fs::write(dir.join("a/b/hello.txt"), b"hello from rust\n").unwrap();
    println!("read_to_string {:?}", fs::read_to_string(dir.join("a/b/hello.txt")).unwrap());

    let mut f = OpenOptions::new().append(true).open(dir.join("a/b/hello.txt")).unwrap();
    f.write_all(b"appended\n").unwrap();
    drop(f);
    let mut f = fs::File::open(dir.join("a/b/hello.txt")).unwrap();
    f.seek(SeekFrom::Start(6)).unwrap();
    let mut rest = String::new();
    f.read_to_string(&mut rest).unwrap();
    println!("after_seek {:?}", rest);
    let meta = f.metadata().unwrap();
    println!("metadata len={} is_file={} is_dir={}", meta.len(), meta.is_file(), meta.is_dir());
    drop(f);

    println!("rename {}", kind(fs::rename(dir.join("a/b/hello.txt"), dir.join("a/greeting.txt"))));
    println!("old_exists {}", dir.join("a/b/hello.txt").exists());
    println!("copy {}", fs::copy(dir.join("a/greeting.txt"), dir.join("copy.txt")).unwrap());
    // `prelink` -> work/a/greeting.txt is made by the host (creating symlinks is unstable in this std).
    println!("read_link {:?}", fs::read_link(base.join("prelink")).unwrap());
    println!("symlink_metadata is_symlink={}", fs::symlink_metadata(base.join("prelink")).unwrap().file_type().is_symlink());
    println!("via_link {:?}", fs::read_to_string(base.join("prelink")).unwrap().lines().next().unwrap());
    println!("hard_link {}", kind(fs::hard_link(dir.join("copy.txt"), dir.join("copy2.txt"))));

    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            let tag = if t.is_dir() { "d" } else if t.is_symlink() { "l" } else { "f" };
            format!("{}:{}", e.file_name().to_string_lossy(), tag)
        })
        .collect();
    names.sort();
    println!("read_dir {}", names.join(" "));

    println!("open_missing {}", kind(fs::File::open(dir.join("missing"))));
    println!("create_new_existing {}", kind(OpenOptions::new().write(true).create_new(true).open(dir.join("copy.txt"))));
    println!("remove_dir_nonempty {}", kind(fs::remove_dir(dir.join("a"))));
    println!("escape {}", kind(fs::read_to_string(base.join("../etc/passwd"))));
    fs::File::create(dir.join("copy.txt")).unwrap().set_len(3).unwrap();
    println!("set_len {}", fs::metadata(dir.join("copy.txt")).unwrap().len());
    println!("remove_file {}", kind(fs::remove_file(dir.join("copy2.txt"))));
    println!("remove_dir_all {}", kind(fs::remove_dir_all(dir.join("a"))));
    println!("remaining {}", fs::read_dir(&dir).unwrap().count());
}
