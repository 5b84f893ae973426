//! Reads the routes out of the SAM template, so the local API cannot drift from what is deployed.
//!
//! Only what routing needs is read: every `AWS::Serverless::Function` with its
//! `Metadata.BuildProperties.Binary`, its `HttpApi` events (`Path`, `Method`, `Auth.Authorizer`),
//! and the `AWS::Serverless::HttpApi`'s default authorizer (which function it calls, which headers
//! are its identity source). CloudFormation's short tags (`!Ref`, `!GetAtt`, `!If`, ...) are kept
//! as tagged values by the YAML parser and only resolved where routing needs them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value;

/// A route as declared in the template: `Method Path` served by the function built as `binary`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// Upper-case HTTP method, or `ANY`.
    pub method: String,
    /// `/public`, `/items/{id}`, `/files/{proxy+}` or `$default`.
    pub path: String,
    /// The cargo binary (and in-process handler) that serves the route.
    pub binary: String,
    /// The function's logical id in the template, for messages.
    pub function: String,
    /// The authorizer in front of the route; `None` for a public route.
    pub authorizer: Option<AuthorizerSpec>,
}

impl RouteSpec {
    /// `GET /private`, or `$default` for the catch-all route (API Gateway's `routeKey`).
    pub fn route_key(&self) -> String {
        if self.path == "$default" {
            "$default".to_owned()
        } else {
            format!("{} {}", self.method, self.path)
        }
    }

    pub fn is_public(&self) -> bool {
        self.authorizer.is_none()
    }
}

/// A Lambda authorizer of the HttpApi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerSpec {
    /// Its name under `Auth.Authorizers`.
    pub name: String,
    /// The binary of the function it calls, when `FunctionArn` points at a function of this template.
    pub binary: Option<String>,
    /// What API Gateway checks before calling the authorizer.
    pub identity: Identity,
    /// `false` when the authorizer is not a Lambda authorizer (e.g. a JWT authorizer).
    pub is_lambda: bool,
}

/// One identity source of a Lambda authorizer, as SAM's `Identity` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// `$request.header.<name>` (name lower-case).
    Header(String),
    /// `$request.querystring.<name>`.
    Query(String),
    /// `$stageVariables.<name>`.
    StageVariable(String),
    /// `$context.<name>`.
    Context(String),
}

/// A Lambda authorizer's identity sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// API Gateway answers 401 without calling the authorizer when any of these is missing or
    /// empty; their values, in this order, are the event's `identitySource`.
    Sources(Vec<IdentitySource>),
    /// The template declares none: API Gateway calls the authorizer on every request (allowed
    /// only with its cache off).
    None,
    /// The template's `Identity` is an expression this reader cannot evaluate: the local API
    /// checks the authorizer's own token sources instead (one of them must be present).
    Unreadable,
}

/// Everything the local API needs from the template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pub routes: Vec<RouteSpec>,
    /// Each function's environment variables by binary name, as the deployed function gets them
    /// with the template's parameter defaults (`!Ref Parameter` resolved to its `Default`;
    /// variables whose value cannot be resolved here are left out).
    pub environments: BTreeMap<String, BTreeMap<String, String>>,
    /// Things the template declares that the local API skips, to print at start-up.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("template is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("template has no `Resources` mapping")]
    NoResources,
    #[error("template declares no HttpApi route")]
    NoRoutes,
}

/// Reads and parses the template at `path`.
pub fn load(path: &Path) -> Result<Template, TemplateError> {
    let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text)
}

/// Parses a SAM template's text.
pub fn parse(text: &str) -> Result<Template, TemplateError> {
    let root: Value = serde_yaml::from_str(text)?;
    let resources = field(&root, "Resources")
        .and_then(Value::as_mapping)
        .ok_or(TemplateError::NoResources)?;

    let mut warnings = Vec::new();
    let binaries: BTreeMap<String, String> = resources
        .iter()
        .filter(|(_, resource)| resource_type(resource) == Some("AWS::Serverless::Function"))
        .filter_map(|(id, resource)| {
            let id = id.as_str()?.to_owned();
            let binary = field(resource, "Metadata")
                .and_then(|m| field(m, "BuildProperties"))
                .and_then(|b| field(b, "Binary"))
                .and_then(Value::as_str);
            Some((id, binary?.to_owned()))
        })
        .collect();

    let defaults = parameter_defaults(&root);
    let global_variables = field(&root, "Globals")
        .and_then(|g| field(g, "Function"))
        .map(|f| environment_variables(f, &defaults))
        .unwrap_or_default();
    let environments = resources
        .iter()
        .filter(|(_, resource)| resource_type(resource) == Some("AWS::Serverless::Function"))
        .filter_map(|(id, resource)| {
            let binary = binaries.get(id.as_str()?)?;
            let mut variables = global_variables.clone();
            if let Some(properties) = field(resource, "Properties") {
                variables.extend(environment_variables(properties, &defaults));
            }
            Some((binary.clone(), variables))
        })
        .collect();

    let apis: BTreeMap<String, HttpApiAuth> = resources
        .iter()
        .filter(|(_, resource)| resource_type(resource) == Some("AWS::Serverless::HttpApi"))
        .filter_map(|(id, resource)| {
            Some((
                id.as_str()?.to_owned(),
                HttpApiAuth::read(resource, &binaries),
            ))
        })
        .collect();

    let mut routes = Vec::new();
    for (id, resource) in resources {
        let Some(id) = id.as_str() else { continue };
        if resource_type(resource) != Some("AWS::Serverless::Function") {
            continue;
        }
        let properties = field(resource, "Properties");
        let Some(events) = properties
            .and_then(|p| field(p, "Events"))
            .and_then(Value::as_mapping)
        else {
            continue;
        };
        for (event_name, event) in events {
            if field(event, "Type").and_then(Value::as_str) != Some("HttpApi") {
                continue;
            }
            let event_name = event_name.as_str().unwrap_or("?");
            let Some(binary) = binaries.get(id) else {
                warnings.push(format!(
                    "{id}.{event_name}: skipped, the function has no Metadata.BuildProperties.Binary"
                ));
                continue;
            };
            match read_route(id, binary, field(event, "Properties"), &apis) {
                Ok(route) => routes.push(route),
                Err(why) => warnings.push(format!("{id}.{event_name}: skipped, {why}")),
            }
        }
    }
    if routes.is_empty() {
        return Err(TemplateError::NoRoutes);
    }
    Ok(Template {
        routes,
        environments,
        warnings,
    })
}

/// `Parameters.X.Default` as strings (numbers as CloudFormation passes them: their text).
fn parameter_defaults(root: &Value) -> BTreeMap<String, String> {
    field(root, "Parameters")
        .and_then(Value::as_mapping)
        .map(|parameters| {
            parameters
                .iter()
                .filter_map(|(name, parameter)| {
                    let default = scalar_text(field(parameter, "Default")?)?;
                    Some((name.as_str()?.to_owned(), default))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `Environment.Variables` of a function's properties (or of `Globals.Function`), each value a
/// literal or a `!Ref` to a parameter with a default; anything else (`!If`, `!Sub`, a pseudo
/// parameter, a parameter without default) is left out, as only a deployment can resolve it.
fn environment_variables(
    properties: &Value,
    defaults: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    field(properties, "Environment")
        .and_then(|e| field(e, "Variables"))
        .and_then(Value::as_mapping)
        .map(|variables| {
            variables
                .iter()
                .filter_map(|(name, value)| {
                    let value = match value {
                        Value::Tagged(_) | Value::Mapping(_) => {
                            defaults.get(&ref_target(value)?)?.clone()
                        }
                        plain => scalar_text(plain)?,
                    };
                    Some((name.as_str()?.to_owned(), value))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The `Auth` section of an `AWS::Serverless::HttpApi`.
#[derive(Debug, Clone, Default)]
struct HttpApiAuth {
    default_authorizer: Option<String>,
    authorizers: BTreeMap<String, AuthorizerSpec>,
}

impl HttpApiAuth {
    fn read(resource: &Value, binaries: &BTreeMap<String, String>) -> Self {
        let auth = field(resource, "Properties").and_then(|p| field(p, "Auth"));
        let default_authorizer = auth
            .and_then(|a| field(a, "DefaultAuthorizer"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let authorizers = auth
            .and_then(|a| field(a, "Authorizers"))
            .and_then(Value::as_mapping)
            .map(|map| {
                map.iter()
                    .filter_map(|(name, spec)| {
                        let name = name.as_str()?.to_owned();
                        Some((name.clone(), read_authorizer(name, spec, binaries)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            default_authorizer,
            authorizers,
        }
    }
}

fn read_authorizer(
    name: String,
    spec: &Value,
    binaries: &BTreeMap<String, String>,
) -> AuthorizerSpec {
    let function = raw_field(spec, "FunctionArn").and_then(get_att_resource);
    let binary = function.and_then(|f| binaries.get(&f).cloned());
    AuthorizerSpec {
        name,
        binary,
        identity: read_identity(raw_field(spec, "Identity")),
        is_lambda: field(spec, "FunctionArn").is_some(),
    }
}

/// SAM's `Identity` (`Headers`, `QueryStrings`, `StageVariables`, `Context`), in the order SAM
/// writes them into the API's `identitySource`.
fn read_identity(identity: Option<&Value>) -> Identity {
    let Some(identity) = identity else {
        return Identity::None;
    };
    let Some(identity) = identity.as_mapping() else {
        return Identity::Unreadable;
    };
    type Kind = (&'static str, fn(String) -> IdentitySource);
    let kinds: [Kind; 4] = [
        ("Headers", |name| {
            IdentitySource::Header(name.to_ascii_lowercase())
        }),
        ("QueryStrings", IdentitySource::Query),
        ("StageVariables", IdentitySource::StageVariable),
        ("Context", IdentitySource::Context),
    ];
    let mut sources = Vec::new();
    for (key, source) in kinds {
        let Some(list) = identity.get(key) else {
            continue;
        };
        let Some(list) = list.as_sequence() else {
            return Identity::Unreadable;
        };
        for name in list {
            let Some(name) = name.as_str() else {
                return Identity::Unreadable;
            };
            sources.push(source(name.to_owned()));
        }
    }
    if sources.is_empty() {
        Identity::None
    } else {
        Identity::Sources(sources)
    }
}

fn read_route(
    function: &str,
    binary: &str,
    properties: Option<&Value>,
    apis: &BTreeMap<String, HttpApiAuth>,
) -> Result<RouteSpec, String> {
    let path = properties
        .and_then(|p| field(p, "Path"))
        .and_then(Value::as_str);
    let method = properties
        .and_then(|p| field(p, "Method"))
        .and_then(Value::as_str);
    // SAM: an HttpApi event without Path and Method is the API's catch-all `$default` route.
    let (method, path) = match (method, path) {
        (None, None) => ("ANY".to_owned(), "$default".to_owned()),
        (Some(method), Some(path)) => {
            let method = method.to_ascii_uppercase();
            let method = if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" || method == "*" {
                "ANY".to_owned()
            } else {
                method
            };
            (method, path.to_owned())
        }
        _ => return Err("an HttpApi event needs both Path and Method".to_owned()),
    };
    if path != "$default" && !path.starts_with('/') {
        return Err(format!("path {path:?} does not start with '/'"));
    }

    let api = match properties.and_then(|p| raw_field(p, "ApiId")) {
        Some(api_id) => {
            let name = ref_target(api_id).ok_or("ApiId is not a !Ref to an HttpApi")?;
            Some(
                apis.get(&name)
                    .ok_or(format!("ApiId refers to unknown HttpApi {name}"))?,
            )
        }
        // SAM's implicit API; when the template defines exactly one, that is the one meant.
        None if apis.len() == 1 => apis.values().next(),
        None => None,
    };
    let route_authorizer = properties
        .and_then(|p| field(p, "Auth"))
        .and_then(|a| field(a, "Authorizer"))
        .and_then(Value::as_str);
    let authorizer_name = match route_authorizer {
        Some("NONE") => None,
        Some(name) => Some(name.to_owned()),
        None => api.and_then(|a| a.default_authorizer.clone()),
    };
    let authorizer = match authorizer_name {
        None => None,
        Some(name) => {
            let spec = api.and_then(|a| a.authorizers.get(&name)).ok_or(format!(
                "authorizer {name} is not declared in the HttpApi's Auth.Authorizers"
            ))?;
            Some(spec.clone())
        }
    };
    Ok(RouteSpec {
        method,
        path,
        binary: binary.to_owned(),
        function: function.to_owned(),
        authorizer,
    })
}

/// `Resources.X.Type`.
fn resource_type(resource: &Value) -> Option<&str> {
    field(resource, "Type").and_then(Value::as_str)
}

/// A mapping's field, looking through tags (a tagged field reads as its plain value).
fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    raw_field(value, key).map(untag)
}

/// A mapping's field with its tag kept, for intrinsics (`!Ref`, `!GetAtt`).
fn raw_field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    untag(value).as_mapping()?.get(key)
}

fn untag(mut value: &Value) -> &Value {
    while let Value::Tagged(tagged) = value {
        value = &tagged.value;
    }
    value
}

/// The resource named by `!GetAtt X.Arn`, `!GetAtt [X, Arn]` or `{"Fn::GetAtt": [X, Arn]}`.
fn get_att_resource(value: &Value) -> Option<String> {
    let target = match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => &tagged.value,
        Value::Mapping(map) => map.get("Fn::GetAtt")?,
        _ => return None,
    };
    match target {
        Value::String(dotted) => dotted.split('.').next().map(str::to_owned),
        Value::Sequence(parts) => parts.first()?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// The resource named by `!Ref X` or `{"Ref": X}`.
fn ref_target(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str().map(str::to_owned),
        Value::Mapping(map) => map.get("Ref")?.as_str().map(str::to_owned),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Conditions:
  SimpleResponses: !Equals [!Ref Style, simple]
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: LambdaAuthorizer
        Authorizers:
          LambdaAuthorizer:
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: !If [SimpleResponses, true, false]
            Identity:
              Headers: [Authorization]
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: authorizer
    Properties:
      Environment:
        Variables:
          JWT_ISSUER: !Ref JwtIssuer
  PublicFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: public
    Properties:
      Events:
        Public:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /public
            Method: get
            Auth:
              Authorizer: NONE
  PrivateFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: private
    Properties:
      Events:
        Private:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /private
            Method: GET
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
  Orphan:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Any:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /orphan
            Method: GET
Outputs:
  Url:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
"#;

    #[test]
    fn template_with_short_tags_yields_public_and_protected_routes() {
        let template = parse(TEMPLATE).unwrap();
        let keys: Vec<_> = template
            .routes
            .iter()
            .map(|r| (r.route_key(), r.binary.as_str(), r.is_public()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("GET /public".to_owned(), "public", true),
                ("GET /private".to_owned(), "private", false),
            ]
        );
        let authorizer = template.routes[1].authorizer.as_ref().unwrap();
        assert_eq!(authorizer.name, "LambdaAuthorizer");
        assert_eq!(authorizer.binary.as_deref(), Some("authorizer"));
        assert_eq!(
            authorizer.identity,
            Identity::Sources(vec![IdentitySource::Header("authorization".to_owned())])
        );
        assert!(authorizer.is_lambda);
    }

    #[test]
    fn function_without_binary_is_reported_not_routed() {
        let template = parse(TEMPLATE).unwrap();
        assert!(template.routes.iter().all(|r| r.function != "Orphan"));
        assert_eq!(template.warnings.len(), 1, "{:?}", template.warnings);
        assert!(template.warnings[0].contains("Orphan.Any"));
    }

    #[test]
    fn event_without_path_and_method_is_the_default_route() {
        let yaml = r#"
Resources:
  F:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: f}}
    Properties:
      Events:
        All: {Type: HttpApi}
"#;
        let template = parse(yaml).unwrap();
        assert_eq!(template.routes[0].route_key(), "$default");
        assert_eq!(template.routes[0].method, "ANY");
        assert!(
            template.routes[0].is_public(),
            "no HttpApi with a default authorizer"
        );
    }

    #[test]
    fn route_naming_undeclared_authorizer_is_skipped_with_warning() {
        let yaml = r#"
Resources:
  Api: {Type: AWS::Serverless::HttpApi}
  F:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: f}}
    Properties:
      Events:
        E: {Type: HttpApi, Properties: {Path: /f, Method: GET, Auth: {Authorizer: Missing}}}
        G: {Type: HttpApi, Properties: {Path: /g, Method: GET}}
"#;
        let template = parse(yaml).unwrap();
        assert_eq!(template.routes.len(), 1);
        assert_eq!(template.routes[0].route_key(), "GET /g");
        assert!(
            template.warnings[0].contains("Missing"),
            "{:?}",
            template.warnings
        );
    }

    #[test]
    fn long_form_intrinsics_are_understood() {
        let yaml = r#"
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: A
        Authorizers:
          A:
            FunctionArn: {"Fn::GetAtt": [Auth, Arn]}
            Identity: {Headers: [X-Api-Key, Authorization]}
  Auth:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: authorizer}}
  F:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: f}}
    Properties:
      Events:
        E: {Type: HttpApi, Properties: {ApiId: {Ref: Api}, Path: "/items/{id}", Method: ANY}}
"#;
        let template = parse(yaml).unwrap();
        let route = &template.routes[0];
        assert_eq!(route.route_key(), "ANY /items/{id}");
        let authorizer = route.authorizer.as_ref().unwrap();
        assert_eq!(authorizer.binary.as_deref(), Some("authorizer"));
        assert_eq!(
            authorizer.identity,
            Identity::Sources(vec![
                IdentitySource::Header("x-api-key".to_owned()),
                IdentitySource::Header("authorization".to_owned()),
            ])
        );
    }

    #[test]
    fn template_without_routes_is_an_error() {
        assert!(matches!(
            parse("Resources: {}"),
            Err(TemplateError::NoRoutes)
        ));
        assert!(matches!(
            parse("Outputs: {}"),
            Err(TemplateError::NoResources)
        ));
        assert!(matches!(
            parse("Resources: [unclosed"),
            Err(TemplateError::Yaml(_))
        ));
    }

    #[test]
    fn repository_template_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let template = load(&path).unwrap();
        assert!(
            template
                .routes
                .iter()
                .any(|r| r.route_key() == "GET /public" && r.is_public())
        );
        assert!(
            template
                .routes
                .iter()
                .any(|r| r.route_key() == "GET /private" && !r.is_public())
        );
    }

    #[test]
    fn function_environment_resolves_parameter_defaults_as_deployed() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let template = load(&path).unwrap();
        let authorizer = &template.environments["authorizer"];
        assert_eq!(authorizer["AUTHORIZER_CACHE_TTL_SECONDS"], "300");
        assert_eq!(authorizer["AUTHORIZER_RESPONSE_STYLE"], "simple");
        assert_eq!(authorizer["JWT_LEEWAY_SECONDS"], "0");
        // No default: unset, as the deployed function would read an empty value.
        assert!(!authorizer.contains_key("JWT_ISSUER"));
        // An !If only a deployment can resolve is left out: the token route's one variable.
        assert!(template.environments.contains_key("token"));
        assert!(!template.environments["token"].contains_key("TWILIO_SETTINGS"));
    }

    #[test]
    fn identity_lists_every_kind_in_sams_order_or_none() {
        let identity = |yaml: &str| read_identity(Some(&serde_yaml::from_str(yaml).unwrap()));
        assert_eq!(
            identity("{Context: [routeKey], QueryStrings: [t], Headers: [X-Key]}"),
            Identity::Sources(vec![
                IdentitySource::Header("x-key".to_owned()),
                IdentitySource::Query("t".to_owned()),
                IdentitySource::Context("routeKey".to_owned()),
            ])
        );
        assert_eq!(identity("{ReauthorizeEvery: 0}"), Identity::None);
        assert_eq!(read_identity(None), Identity::None);
        assert_eq!(
            identity("{Headers: !If [C, [A], [B]]}"),
            Identity::Unreadable
        );
        assert_eq!(identity("!If [C, {}, {}]"), Identity::Unreadable);
    }
}
