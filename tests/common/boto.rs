//! State a test makes with the venv's boto3 (the emulator's own client), for what the
//! suite has no SDK crate or no easy way to make: an imported certificate needs a key pair.

use super::{venv_python, Proxy};

/// Runs `body` after `kw` (the client keywords for this proxy and region) is defined;
/// returns its stdout, trimmed. Panics with Python's stderr when it fails.
pub fn run(proxy: &Proxy, region: &str, body: &str) -> String {
    let script = format!(
        "import boto3\n\
         kw = dict(region_name='{region}', endpoint_url='{}', \
         aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         {body}",
        proxy.url()
    );
    let out = std::process::Command::new(venv_python())
        .args(["-c", &script])
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// An ISSUED certificate for `domain`: self-signed and imported, as a certificate that
/// exists before the deploy is (a requested one is PENDING_VALIDATION until validated).
pub fn issued_certificate(proxy: &Proxy, region: &str, domain: &str) -> String {
    run(
        proxy,
        region,
        &format!(
            "import datetime\n\
             from cryptography import x509\n\
             from cryptography.x509.oid import NameOID\n\
             from cryptography.hazmat.primitives import hashes, serialization\n\
             from cryptography.hazmat.primitives.asymmetric import rsa\n\
             key = rsa.generate_private_key(public_exponent=65537, key_size=2048)\n\
             name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '{domain}')])\n\
             now = datetime.datetime.now(datetime.timezone.utc)\n\
             cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)\n\
               .public_key(key.public_key()).serial_number(x509.random_serial_number())\n\
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))\n\
               .sign(key, hashes.SHA256()))\n\
             print(boto3.client('acm', **kw).import_certificate(\n\
               Certificate=cert.public_bytes(serialization.Encoding.PEM),\n\
               PrivateKey=key.private_bytes(serialization.Encoding.PEM,\n\
                 serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()),\n\
             )['CertificateArn'])"
        ),
    )
}

/// A requested certificate: PENDING_VALIDATION (until its DNS validation; moto issues it
/// after MOTO_ACM_VALIDATION_WAIT, a minute).
pub fn requested_certificate(proxy: &Proxy, region: &str, domain: &str) -> String {
    run(
        proxy,
        region,
        &format!(
            "print(boto3.client('acm', **kw).request_certificate(DomainName='{domain}')\
             ['CertificateArn'])"
        ),
    )
}
