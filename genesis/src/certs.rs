//! The consortium CA and the certificates it issues.
//!
//! Layout: each organisation has its own self-signed root (`CN=<org> CA`,
//! `O=<org>`, path length 0), which signs that organisation's end-entity
//! certificates directly and no one else's. A node
//! certificate names the node (`CN`), its organisation (`O`) and role (`OU`:
//! notary, bank or regulator), carries `serverAuth` and `clientAuth` (both sides
//! of mutual TLS) and SANs for its hosts. An administrator certificate has
//! `OU=admin` and `clientAuth` only. All keys are ed25519.

use std::net::IpAddr;
use std::path::Path;

use billflow_types::{NodeId, OrgId, OrgRole, SecretKey};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ED25519, SanType, SerialNumber,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::keys::pkcs8_der;

/// Certificate and key failures, naming the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// A file's content is not what it should be.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Building a certificate failed.
    #[error("cannot build certificate: {0}")]
    Build(String),
}

impl CertError {
    pub(crate) fn file(path: &Path, source: std::io::Error) -> CertError {
        CertError::File { path: path.display().to_string(), source }
    }
}

fn build(e: rcgen::Error) -> CertError {
    CertError::Build(e.to_string())
}

fn key_pair(key: &SecretKey) -> Result<KeyPair, CertError> {
    let der = pkcs8_der(key);
    KeyPair::from_pkcs8_der_and_sign_algo(&der.as_slice().into(), &PKCS_ED25519).map_err(build)
}

/// A serial number derived from what the certificate is for, so that output is reproducible.
fn serial(label: &str) -> SerialNumber {
    let digest: [u8; 32] = Sha256::digest(label.as_bytes()).into();
    let mut bytes = digest[..16].to_vec();
    bytes[0] &= 0x7f; // positive
    SerialNumber::from_slice(&bytes)
}

/// An issued certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCert {
    /// PEM text.
    pub pem: String,
    /// DER bytes.
    pub der: Vec<u8>,
}

/// What a node certificate says.
#[derive(Debug, Clone)]
pub struct NodeCertSpec {
    /// The node.
    pub node_id: NodeId,
    /// Its organisation.
    pub org: OrgId,
    /// The organisation's role.
    pub role: OrgRole,
    /// Host names and addresses (localhost and 127.0.0.1 are always added).
    pub hosts: Vec<String>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

/// What every end-entity certificate shares: `CN`, `O`, `OU`, signature-only key
/// usage, validity, a serial derived from `label` and the start time, and the
/// authority key identifier.
fn end_entity(
    cn: &str,
    org: &OrgId,
    ou: &str,
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
    label: &str,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, org.as_str());
    dn.push(DnType::OrganizationalUnitName, ou);
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(serial(&format!("{label}/{}", not_before.unix_timestamp())));
    params.use_authority_key_identifier_extension = true;
    params
}

/// The role's name in certificates.
pub fn role_name(role: OrgRole) -> &'static str {
    match role {
        OrgRole::Notary => "notary",
        OrgRole::Bank => "bank",
        OrgRole::Regulator => "regulator",
    }
}

/// An organisation's root CA.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate (PEM).
    pub cert: IssuedCert,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

impl Ca {
    /// Creates organisation `org`'s root CA with `key`, valid from `not_before` to `not_after`.
    pub fn create(
        org: &OrgId,
        key: &SecretKey,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Ca, CertError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("{org} CA"));
        dn.push(DnType::OrganizationName, org.as_str());
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(serial(&format!("ca/{org}/{}", not_before.unix_timestamp())));
        let kp = key_pair(key)?;
        let cert = params.self_signed(&kp).map_err(build)?;
        let issued = IssuedCert { pem: cert.pem(), der: cert.der().to_vec() };
        Ok(Ca { issuer: Issuer::new(params, kp), cert: issued })
    }

    /// Loads a CA from its certificate and key files.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Ca, CertError> {
        let pem = std::fs::read_to_string(cert_path).map_err(|e| CertError::file(cert_path, e))?;
        let key = crate::keys::read_key(key_path)?;
        let kp = key_pair(&key)?;
        let parsed = ::pem::parse(&pem).map_err(|e| CertError::Invalid {
            path: cert_path.display().to_string(),
            reason: format!("not a PEM certificate: {e}"),
        })?;
        let cert_key = crate::inspect::cert_public_key(parsed.contents())
            .map_err(|reason| CertError::Invalid { path: cert_path.display().to_string(), reason })?;
        if cert_key != key.public() {
            return Err(CertError::Invalid {
                path: key_path.display().to_string(),
                reason: format!("this key does not match the certificate {}", cert_path.display()),
            });
        }
        let issuer = Issuer::from_ca_cert_pem(&pem, kp)
            .map_err(|e| CertError::Invalid { path: cert_path.display().to_string(), reason: e.to_string() })?;
        Ok(Ca { issuer, cert: IssuedCert { der: parsed.contents().to_vec(), pem } })
    }

    /// Issues a node certificate for `key`.
    pub fn issue_node(&self, spec: &NodeCertSpec, key: &SecretKey) -> Result<IssuedCert, CertError> {
        let mut params = end_entity(
            spec.node_id.as_str(),
            &spec.org,
            role_name(spec.role),
            (spec.not_before, spec.not_after),
            &format!("node/{}", spec.node_id),
        );
        let mut hosts = spec.hosts.clone();
        for default in ["localhost", "127.0.0.1"] {
            if !hosts.iter().any(|h| h == default) {
                hosts.push(default.into());
            }
        }
        for h in &hosts {
            params.subject_alt_names.push(match h.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(h.clone().try_into().map_err(build)?),
            });
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(&params, key)
    }

    /// Issues an administrator certificate of `org` for `key`.
    pub fn issue_admin(
        &self,
        org: &OrgId,
        key: &SecretKey,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCert, CertError> {
        let mut params =
            end_entity(&format!("{org} admin"), org, "admin", (not_before, not_after), &format!("admin/{org}"));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(&params, key)
    }

    fn sign(&self, params: &CertificateParams, key: &SecretKey) -> Result<IssuedCert, CertError> {
        let cert = params.signed_by(&key_pair(key)?, &self.issuer).map_err(build)?;
        Ok(IssuedCert { pem: cert.pem(), der: cert.der().to_vec() })
    }
}
