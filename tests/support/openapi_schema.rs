//! Validates objects against a CustomResourceDefinition's `openAPIV3Schema`, the subset of
//! OpenAPI v3 / JSON Schema that structural CRD schemas use: `type`, `properties`, `required`,
//! `additionalProperties`, `items`, `enum`, `pattern`, `minLength`/`maxLength`,
//! `minimum`/`maximum`, `minItems`/`maxItems`, `nullable`, `allOf`/`anyOf`/`oneOf`,
//! `x-kubernetes-int-or-string` and `x-kubernetes-preserve-unknown-fields`. Like
//! `kubectl apply --validate=strict`, a field the schema does not declare is an error.
//! Not checked: `format` and the CEL rules of `x-kubernetes-validations`.
#![allow(dead_code)]

use serde_json::Value;

/// The `openAPIV3Schema` of `version` in `crd`.
pub fn crd_schema<'a>(crd: &'a Value, version: &str) -> &'a Value {
    crd["spec"]["versions"]
        .as_array()
        .and_then(|versions| versions.iter().find(|v| v["name"] == version))
        .map(|v| &v["schema"]["openAPIV3Schema"])
        .unwrap_or_else(|| panic!("the CRD {} has no version {version}", crd["metadata"]["name"]))
}

/// Every place where `value` breaks `schema`, as `path: problem`.
pub fn validate(value: &Value, schema: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(value, schema, "", &mut errors);
    errors
}

fn check(value: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    let at = if path.is_empty() { "<root>" } else { path };
    if value.is_null() {
        if schema["nullable"] != true {
            errors.push(format!("{at}: null is not allowed"));
        }
        return;
    }
    for sub in schema["allOf"].as_array().into_iter().flatten() {
        check(value, sub, path, errors);
    }
    for (key, at_least, at_most) in [("anyOf", 1, usize::MAX), ("oneOf", 1, 1)] {
        if let Some(options) = schema[key].as_array() {
            let passing = options.iter().filter(|sub| validate_at(value, sub, path).is_empty()).count();
            if passing < at_least || passing > at_most {
                errors.push(format!("{at}: matches {passing} of the {key} schemas"));
            }
        }
    }
    if schema["x-kubernetes-int-or-string"] == true {
        if !(value.is_string() || value.is_i64() || value.is_u64()) {
            errors.push(format!("{at}: expected an integer or a string, got {value}"));
        }
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} is not one of {}", Value::from(allowed.clone())));
        }
    }
    match schema["type"].as_str() {
        Some("object") => check_object(value, schema, path, errors),
        Some("array") => {
            let Some(items) = value.as_array() else {
                return errors.push(format!("{at}: expected an array, got {value}"));
            };
            bounds(items.len() as f64, schema, "minItems", "maxItems", at, errors);
            for (i, item) in items.iter().enumerate() {
                check(item, &schema["items"], &format!("{path}[{i}]"), errors);
            }
        }
        Some("string") => {
            let Some(text) = value.as_str() else {
                return errors.push(format!("{at}: expected a string, got {value}"));
            };
            bounds(text.chars().count() as f64, schema, "minLength", "maxLength", at, errors);
            if let Some(pattern) = schema["pattern"].as_str() {
                let regex =
                    regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{at}: pattern {pattern}: {e}"));
                if !regex.is_match(text) {
                    errors.push(format!("{at}: {text:?} does not match {pattern}"));
                }
            }
        }
        Some("integer") if !(value.is_i64() || value.is_u64()) => {
            errors.push(format!("{at}: expected an integer, got {value}"))
        }
        Some("number") if !value.is_number() => errors.push(format!("{at}: expected a number, got {value}")),
        Some("integer") | Some("number") => {
            bounds(value.as_f64().unwrap(), schema, "minimum", "maximum", at, errors)
        }
        Some("boolean") if !value.is_boolean() => {
            errors.push(format!("{at}: expected a boolean, got {value}"))
        }
        _ => {}
    }
}

fn validate_at(value: &Value, schema: &Value, path: &str) -> Vec<String> {
    let mut errors = Vec::new();
    check(value, schema, path, &mut errors);
    errors
}

fn check_object(value: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    let at = if path.is_empty() { "<root>" } else { path };
    let Some(object) = value.as_object() else {
        return errors.push(format!("{at}: expected an object, got {value}"));
    };
    for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !object.contains_key(name) {
            errors.push(format!("{at}: the required field {name} is missing"));
        }
    }
    let properties = schema["properties"].as_object();
    let additional = &schema["additionalProperties"];
    // An object schema that declares nothing (`metadata` in a CRD) takes any fields.
    let open = schema["x-kubernetes-preserve-unknown-fields"] == true
        || additional == &Value::Bool(true)
        || (properties.is_none() && additional.is_null());
    for (key, field) in object {
        let field_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        match properties.and_then(|p| p.get(key)) {
            Some(sub) => check(field, sub, &field_path, errors),
            None if additional.is_object() => check(field, additional, &field_path, errors),
            None if open => {}
            None => errors.push(format!("{field_path}: unknown field")),
        }
    }
}

fn bounds(n: f64, schema: &Value, min: &str, max: &str, at: &str, errors: &mut Vec<String>) {
    if let Some(low) = schema[min].as_f64() {
        if n < low {
            errors.push(format!("{at}: {n} is below {min} {low}"));
        }
    }
    if let Some(high) = schema[max].as_f64() {
        if n > high {
            errors.push(format!("{at}: {n} is above {max} {high}"));
        }
    }
}
