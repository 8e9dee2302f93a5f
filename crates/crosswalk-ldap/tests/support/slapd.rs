//! A real OpenLDAP `slapd` for one test: a generated `slapd.conf` (mdb backend) in a temp
//! dir, the data loaded with `slapadd`, the server on a free loopback port, killed (by its
//! own pid) when the value is dropped. The Debian packages `slapd` and `ldap-utils` provide
//! the binaries (`.ci/run` installs them). Under CI=true a slapd that cannot start fails the
//! test; elsewhere the test says loudly that it did not run and returns.
//!
//! Used by `crosswalk-ldap`'s tests and, through `#[path]`, by the CLI's.

#![allow(dead_code)]

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const SUFFIX: &str = "dc=example,dc=com";
/// A reader that is no rootdn, so the size limit below applies to it.
pub(crate) const READER_DN: &str = "cn=reader,dc=example,dc=com";
pub(crate) const READER_PASSWORD: &str = "reader-secret-4711";
/// The most entries one search returns to the reader without paging: a read of more
/// entries works only through the paged results control.
pub(crate) const SIZE_LIMIT: usize = 100;

pub(crate) struct Slapd {
    pub(crate) url: String,
    dir: tempfile::TempDir,
    child: Child,
}

fn slapd_binary() -> Option<PathBuf> {
    [
        "/usr/sbin/slapd",
        "/usr/local/libexec/slapd",
        "/usr/libexec/slapd",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

fn skip_or_fail(why: &str) -> Option<Slapd> {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("CI=true and slapd cannot start: {why}");
    }
    eprintln!(
        "\n*** SKIPPED: slapd cannot start ({why}); this LDAP test did NOT run. Install the Debian packages \
         slapd and ldap-utils (under CI=true this fails). ***\n"
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
# Active Directory's user and group attributes (objectGUID, objectSid, sAMAccountName,
# userAccountControl, proxyAddresses), shipped with OpenLDAP.
include /etc/ldap/schema/msuser.schema
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited
database mdb
maxsize 268435456
suffix \"{SUFFIX}\"
rootdn \"cn=admin,{SUFFIX}\"
rootpw admin-secret
directory {d}/db
access to attrs=userPassword by anonymous auth by * none
access to * by * read
"
    )
}

/// The base entries every test's data needs: the suffix, two OUs and the reader.
pub(crate) fn base_ldif() -> String {
    format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
         dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: ou=ad,{SUFFIX}\nobjectClass: organizationalUnit\nou: ad\n\n\
         dn: {READER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: {READER_PASSWORD}\n\n"
    )
}

impl Slapd {
    /// Starts slapd with `ldif` (which must include [`base_ldif`]) loaded. `None` when slapd
    /// is not installed or does not start, outside CI.
    pub(crate) fn start(ldif: &str) -> Option<Slapd> {
        let Some(binary) = slapd_binary() else {
            return skip_or_fail("no slapd binary (apt-get install slapd)");
        };
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("db")).expect("db dir");
        let conf = dir.path().join("slapd.conf");
        std::fs::write(&conf, config(dir.path())).expect("write slapd.conf");
        let data = dir.path().join("data.ldif");
        std::fs::File::create(&data)
            .and_then(|mut f| f.write_all(ldif.as_bytes()))
            .expect("write data");
        // -s: AD entries lack AD's mandatory system attributes (nTSecurityDescriptor...),
        // which only a real AD would have.
        let slapadd = Command::new(binary.with_file_name("slapadd"))
            .args([
                "-f",
                conf.to_str().unwrap(),
                "-s",
                "-q",
                "-l",
                data.to_str().unwrap(),
            ])
            .output();
        match slapadd {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return skip_or_fail(&format!(
                    "slapadd failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Err(error) => return skip_or_fail(&format!("slapadd: {error}")),
        }
        for _attempt in 0..3 {
            let port = free_port();
            let url = format!("ldap://127.0.0.1:{port}");
            let child = Command::new(&binary)
                .args([
                    "-f",
                    conf.to_str().unwrap(),
                    "-h",
                    &format!("{url}/"),
                    "-d",
                    "0",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn();
            let mut child = match child {
                Ok(child) => child,
                Err(error) => {
                    return skip_or_fail(&format!("cannot run {}: {error}", binary.display()));
                }
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(Slapd { url, dir, child });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        skip_or_fail("slapd did not listen on a loopback port within 20 s (three ports tried)")
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A binary value in LDIF: `attr:: base64`.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Ada's objectGUID as AD stores it, and as text.
pub(crate) const ADA_GUID_BYTES: [u8; 16] = [
    0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 1, 2, 3, 4, 5, 6, 7, 8,
];
pub(crate) const ADA_GUID: &str = "12345678-9abc-def0-0102-030405060708";

fn guid(n: u8) -> String {
    base64(&[n, 0, 0, 0x10, 0, 0, 0, 0x40, 0x80, 0, 0, 0, 0, 0, 0, n])
}

/// The sample directory: OpenLDAP people (one with accents and an alias address, `many`
/// numbered ones), groupOfNames/groupOfUniqueNames/posixGroup groups (`everyone` holds every
/// person, nested in `engineering`), and AD-shaped entries under ou=ad: a user with a binary
/// objectGUID and objectSid and proxyAddresses, a disabled user, a shared mailbox (a
/// disabled user with addresses), and an AD group naming its members in another case.
pub(crate) fn sample_ldif(many: usize) -> String {
    let mut ldif = base_ldif();
    let person = |uid: &str, cn: &str, given: &str, sn: &str, mails: &[&str]| {
        let mut entry =
            format!("dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {uid}\n");
        for (attribute, value) in [("cn", cn), ("givenName", given), ("sn", sn)] {
            // Non-ASCII values in base64, as RFC 2849 asks.
            if value.is_ascii() {
                entry.push_str(&format!("{attribute}: {value}\n"));
            } else {
                entry.push_str(&format!("{attribute}:: {}\n", base64(value.as_bytes())));
            }
        }
        for mail in mails {
            entry.push_str(&format!("mail: {mail}\n"));
        }
        entry.push('\n');
        entry
    };
    ldif.push_str(&person(
        "jdoe",
        "John Doe",
        "John",
        "Doe",
        &["john.doe@example.com"],
    ));
    ldif.push_str(&person(
        "zoe",
        "Zoë Ångström",
        "Zoë",
        "Ångström",
        &["zoe@example.com", "z.angstrom@example.com"],
    ));
    for i in 0..many {
        ldif.push_str(&person(
            &format!("user{i:05}"),
            &format!("User {i}"),
            "User",
            &i.to_string(),
            &[&format!("user{i:05}@example.com")],
        ));
    }
    ldif.push_str(&format!(
        "dn: cn=everyone,ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: everyone\n"
    ));
    ldif.push_str(&format!(
        "member: uid=jdoe,ou=people,{SUFFIX}\nmember: uid=zoe,ou=people,{SUFFIX}\n"
    ));
    for i in 0..many {
        ldif.push_str(&format!("member: uid=user{i:05},ou=people,{SUFFIX}\n"));
    }
    ldif.push('\n');
    ldif.push_str(&format!(
        "dn: cn=engineering,ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: engineering\ndescription: nested\n\
         member: uid=zoe,ou=people,{SUFFIX}\nmember: cn=everyone,ou=groups,{SUFFIX}\nmember: CN=AD Staff,OU=AD,{SUFFIX}\n\n\
         dn: cn=staff,ou=groups,{SUFFIX}\nobjectClass: posixGroup\ncn: staff\ngidNumber: 5000\nmemberUid: jdoe\nmemberUid: zoe\n\n\
         dn: cn=admins,ou=groups,{SUFFIX}\nobjectClass: groupOfUniqueNames\ncn: admins\nuniqueMember: UID=JDOE, OU=People, DC=Example, DC=Com\n\n"
    ));
    let mut sid = vec![1u8, 5, 0, 0, 0, 0, 0, 5];
    for sub in [21u32, 1004336348, 1177238915, 682003330, 1104] {
        sid.extend_from_slice(&sub.to_le_bytes());
    }
    ldif.push_str(&format!(
        "dn: cn=Ada Admin,ou=ad,{SUFFIX}\nobjectClass: user\ncn: Ada Admin\nsAMAccountName: ada\ndisplayName: Ada Admin\n\
         givenName: Ada\nsn: Admin\nuserAccountControl: 512\nobjectGUID:: {}\nobjectSid:: {}\n\
         proxyAddresses: SMTP:ada@example.com\nproxyAddresses: smtp:ada.admin@example.com\n\
         proxyAddresses: X500:/o=Example/ou=Exchange/cn=Recipients/cn=ada\n\n\
         dn: cn=Old Timer,ou=ad,{SUFFIX}\nobjectClass: user\ncn: Old Timer\nsAMAccountName: otimer\nuserAccountControl: 514\n\
         objectGUID:: {}\nproxyAddresses: SMTP:old.timer@example.com\n\n\
         dn: cn=Support Mailbox,ou=ad,{SUFFIX}\nobjectClass: user\ncn: Support Mailbox\nsAMAccountName: support\n\
         userAccountControl: 514\nobjectGUID:: {}\nproxyAddresses: SMTP:support@example.com\nproxyAddresses: smtp:helpdesk@example.com\n\n\
         dn: cn=AD Staff,ou=ad,{SUFFIX}\nobjectClass: group\ncn: AD Staff\ngroupType: -2147483646\nobjectGUID:: {}\n\
         member: CN=ADA ADMIN,OU=AD,DC=EXAMPLE,DC=COM\nmember: cn=Old Timer,ou=ad,{SUFFIX}\n\n",
        base64(&ADA_GUID_BYTES),
        base64(&sid),
        guid(2),
        guid(3),
        guid(4),
    ));
    ldif
}
