//! Getting keys over HTTP (as aws-jwt-verify's `https.ts`): which URLs may be fetched, the
//! clients (no redirects, bounded time), a GET bounded in size, and OpenID Connect discovery.

use std::net::IpAddr;

use serde_json::Value;
use url::{Host, Url};

use super::error::JwksError;
use super::settings::{JwksSettings, TlsRoots};
use crate::config_error::ConfigError;

/// An issuer or key URL: `https`, or `http` on a loopback host (local development and tests).
pub(crate) fn parse_secure_url(var: &str, value: &str) -> Result<Url, ConfigError> {
    let shown = without_userinfo(value);
    let url = Url::parse(value)
        .map_err(|e| ConfigError::new(var, format!("{shown:?} is not a valid URL ({e})")))?;
    check_secure_url(&url)
        .map_err(|problem| ConfigError::new(var, format!("{shown:?} {problem}")))?;
    Ok(url)
}

/// `value` with any `user:password@` removed, for error messages (which reach the Lambda
/// init error and the logs). Works on text that does not parse as a URL too.
fn without_userinfo(value: &str) -> String {
    let Some(scheme_end) = value.find("://") else {
        return value.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &value[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_len].rfind('@') {
        Some(at) => format!(
            "{}[credentials removed]@{}",
            &value[..authority_start],
            &rest[at + 1..]
        ),
        None => value.to_owned(),
    }
}

/// The https rule for every URL keys are fetched from: the configured issuer and `jwks_uri`,
/// and a `jwks_uri` found by discovery.
pub(crate) fn check_secure_url(url: &Url) -> Result<(), &'static str> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials");
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment (#...)");
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if url.host().is_some_and(|h| is_loopback(&h)) => Ok(()),
        "http" => Err(
            "must use https (plain http is only accepted for loopback hosts: 127.0.0.1, ::1, localhost)",
        ),
        _ => Err("must be an https URL"),
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// `<issuer>/.well-known/<name>`, with or without a trailing slash on the issuer.
pub(crate) fn well_known(issuer: &str, name: &str) -> Option<Url> {
    Url::parse(&format!(
        "{}/.well-known/{name}",
        issuer.trim_end_matches('/')
    ))
    .ok()
}

/// The `jwks_uri` of an OpenID Provider metadata document for `issuer`.
/// - The document's `issuer` must be exactly the configured issuer (OpenID Connect Discovery
///   1.0 §4.3: otherwise the metadata must not be used).
/// - `jwks_uri` is held to the https rule of configured URLs, and plain http on a loopback
///   host is accepted only when the issuer itself is plain http on loopback (local runs):
///   a document served for an https issuer must not point us at internal http services.
pub(crate) fn parse_discovery(body: &[u8], issuer: &str) -> Result<Url, JwksError> {
    let doc: Value = serde_json::from_slice(body).map_err(|source| JwksError::Json {
        url: "discovery document".to_owned(),
        source,
    })?;
    match doc.get("issuer") {
        Some(Value::String(found)) if found == issuer => {}
        Some(Value::String(_)) => {
            return Err(JwksError::Shape(
                "discovery document names another `issuer` than the configured one".to_owned(),
            ));
        }
        _ => {
            return Err(JwksError::Shape(
                "discovery document has no string `issuer`".to_owned(),
            ));
        }
    }
    let raw = doc.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| {
        JwksError::Shape("discovery document has no string `jwks_uri`".to_owned())
    })?;
    let url = Url::parse(raw)
        .map_err(|e| JwksError::Shape(format!("discovered jwks_uri is not a URL: {e}")))?;
    check_secure_url(&url)
        .map_err(|problem| JwksError::Shape(format!("discovered jwks_uri {problem}")))?;
    let issuer_is_plain_http = Url::parse(issuer).is_ok_and(|i| i.scheme() == "http");
    if url.scheme() != "https" && !issuer_is_plain_http {
        return Err(JwksError::Shape(
            "discovered jwks_uri must use https for an https issuer".to_owned(),
        ));
    }
    Ok(url)
}

/// GET `url` and read at most `limit` bytes of body, streaming, so a huge or endless
/// body is cut off instead of buffered.
pub(crate) async fn get_bounded(
    clients: &HttpClients,
    url: &Url,
    limit: usize,
) -> Result<Vec<u8>, JwksError> {
    let client = clients.for_url(url)?;
    let http = |source| JwksError::Http {
        url: url.to_string(),
        source,
    };
    let mut response = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(http)?;
    let status = response.status();
    if !status.is_success() {
        return Err(JwksError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let too_large = || JwksError::TooLarge {
        url: url.to_string(),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(response.content_length().map_or(8 * 1024, |n| n as usize));
    while let Some(chunk) = response.chunk().await.map_err(http)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// HTTP clients for key fetches: no redirects (a JWKS that moves must be reconfigured, and a
/// redirect could downgrade to plain http), bounded time.
///
/// The https client is built on the first https fetch only, so a deployment whose keys are on
/// loopback http (local runs, tests), or that starts from a JWKS snapshot, builds it off the
/// cold path or never. Its roots are compiled in unless `SSL_CERT_FILE`/`SSL_CERT_DIR` ask for
/// the system's (see [`TlsRoots`]).
#[derive(Debug)]
pub(crate) struct HttpClients {
    settings: JwksSettings,
    plain: reqwest::Client,
    tls: std::sync::OnceLock<Result<reqwest::Client, String>>,
}

impl HttpClients {
    /// The plain client now, the https client on first use.
    pub(crate) fn new(settings: &JwksSettings) -> Result<Self, reqwest::Error> {
        // No roots: this client only ever speaks plain http to loopback hosts.
        let plain = client_builder(settings).tls_certs_only([]).build()?;
        Ok(Self {
            settings: *settings,
            plain,
            tls: std::sync::OnceLock::new(),
        })
    }

    /// The client for `url`'s scheme.
    pub(crate) fn for_url(&self, url: &Url) -> Result<&reqwest::Client, JwksError> {
        if url.scheme() != "https" {
            return Ok(&self.plain);
        }
        self.tls
            .get_or_init(|| {
                let builder = client_builder(&self.settings);
                let builder = match self.settings.tls_roots {
                    TlsRoots::System => builder,
                    TlsRoots::CompiledIn => builder.tls_certs_only(
                        webpki_root_certs::TLS_SERVER_ROOT_CERTS
                            .iter()
                            .filter_map(|der| reqwest::Certificate::from_der(der).ok()),
                    ),
                };
                builder.build().map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| JwksError::Client(e.clone()))
    }
}

fn client_builder(settings: &JwksSettings) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .user_agent(concat!("jwt-lambda-authorizer/", env!("CARGO_PKG_VERSION")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings() -> JwksSettings {
        JwksSettings::default()
    }

    #[test]
    fn https_client_is_built_on_first_https_use_only() {
        let clients = HttpClients::new(&settings()).unwrap();
        assert!(clients.tls.get().is_none());
        clients
            .for_url(&Url::parse("http://127.0.0.1:1/jwks").unwrap())
            .unwrap();
        assert!(
            clients.tls.get().is_none(),
            "plain http must not load root certificates"
        );
        // Building may fail on a machine without CA certificates; either way it is attempted now.
        let _ = clients.for_url(&Url::parse("https://idp.example.com/jwks").unwrap());
        assert!(clients.tls.get().is_some());
    }

    #[test]
    fn well_known_joins_with_and_without_trailing_slash() {
        assert_eq!(
            well_known("https://t.auth0.com/", "jwks.json")
                .unwrap()
                .as_str(),
            "https://t.auth0.com/.well-known/jwks.json"
        );
        assert_eq!(
            well_known(
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x",
                "openid-configuration"
            )
            .unwrap()
            .as_str(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x/.well-known/openid-configuration"
        );
    }

    #[test]
    fn parse_discovery_applies_https_rule() {
        let https = "https://idp.example.com/";
        let ok = parse_discovery(
            br#"{"issuer": "https://idp.example.com/", "jwks_uri": "https://idp.example.com/keys"}"#,
            https,
        )
        .unwrap();
        assert_eq!(ok.as_str(), "https://idp.example.com/keys");
        assert!(
            parse_discovery(
                br#"{"issuer": "https://idp.example.com/", "jwks_uri": "http://idp.example.com/keys"}"#,
                https
            )
            .is_err()
        );
        assert!(parse_discovery(br#"{"issuer": "https://idp.example.com/"}"#, https).is_err());
        assert!(parse_discovery(b"garbage", https).is_err());
    }

    #[test]
    fn discovery_for_https_issuer_pointing_at_loopback_http_is_rejected() {
        for jwks_uri in [
            "http://127.0.0.1:1/keys",
            "http://localhost/keys",
            "http://[::1]/keys",
        ] {
            let doc = json!({"issuer": "https://idp.example.com/", "jwks_uri": jwks_uri});
            let err = parse_discovery(doc.to_string().as_bytes(), "https://idp.example.com/")
                .unwrap_err();
            assert!(err.to_string().contains("https"), "{jwks_uri}: {err}");
        }
    }

    #[test]
    fn discovery_for_loopback_issuer_may_use_loopback_http() {
        let doc =
            json!({"issuer": "http://127.0.0.1:8080/", "jwks_uri": "http://127.0.0.1:8080/keys"});
        let url = parse_discovery(doc.to_string().as_bytes(), "http://127.0.0.1:8080/").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/keys");
        // Still never plain http to a non-loopback host.
        let doc = json!({"issuer": "http://127.0.0.1:8080/", "jwks_uri": "http://10.0.0.1/keys"});
        assert!(parse_discovery(doc.to_string().as_bytes(), "http://127.0.0.1:8080/").is_err());
    }

    #[test]
    fn discovery_with_other_or_missing_issuer_is_rejected() {
        let issuer = "https://tenant.auth0.com/";
        for doc in [
            json!({"issuer": "https://evil.example.com/", "jwks_uri": "https://tenant.auth0.com/keys"}),
            json!({"issuer": "https://tenant.auth0.com", "jwks_uri": "https://tenant.auth0.com/keys"}),
            json!({"jwks_uri": "https://tenant.auth0.com/keys"}),
            json!({"issuer": 1, "jwks_uri": "https://tenant.auth0.com/keys"}),
        ] {
            assert!(
                parse_discovery(doc.to_string().as_bytes(), issuer).is_err(),
                "{doc}"
            );
        }
    }

    #[test]
    fn without_userinfo_keeps_an_at_sign_outside_the_authority() {
        assert_eq!(
            without_userinfo("https://keys.example.com/a@b"),
            "https://keys.example.com/a@b"
        );
        assert_eq!(
            without_userinfo("https://admin:hunter2@keys.example.com/jwks"),
            "https://[credentials removed]@keys.example.com/jwks"
        );
    }
}
