//! The API reference: the OpenAPI document rendered once as a plain HTML page, served
//! from the site (`/api/v1/reference`) with the app's stylesheet. There are no scripts
//! and no CDN, and it adds nothing to the WASM bundle.

use aura_app::markup::escape;
use serde_json::Value;
use std::fmt::Write;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The page for `doc` (the document as JSON).
pub fn render(doc: &Value) -> String {
    let mut out = String::new();
    let title = text(&doc["info"]["title"]);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/aura.css\"></head>\
         <body class=\"bg-slate-50 text-slate-900 dark:bg-slate-950 dark:text-slate-100\">\
         <main class=\"mx-auto max-w-5xl p-6\">\
         <p class=\"text-sm\"><a class=\"text-indigo-600 hover:underline\" href=\"/\">Aura</a> · \
         <a class=\"text-indigo-600 hover:underline\" href=\"/api/v1/openapi.json\">openapi.json</a></p>\
         <h1 class=\"mt-2 text-2xl font-semibold\">{title}</h1>\
         <p class=\"mt-2 max-w-3xl text-sm text-slate-600 dark:text-slate-400\">{}</p>",
        text(&doc["info"]["description"])
    );
    out.push_str("<nav aria-label=\"Sections\" class=\"mt-4 flex flex-wrap gap-3 text-sm\">");
    for tag in doc["tags"].as_array().into_iter().flatten() {
        let name = text(&tag["name"]);
        let _ = write!(
            out,
            "<a class=\"text-indigo-600 hover:underline\" href=\"#tag-{name}\">{name}</a>"
        );
    }
    out.push_str(
        "<a class=\"text-indigo-600 hover:underline\" href=\"#schemas\">schemas</a></nav>",
    );
    for tag in doc["tags"].as_array().into_iter().flatten() {
        let name = tag["name"].as_str().unwrap_or_default();
        let _ = write!(
            out,
            "<section aria-labelledby=\"tag-{0}\" class=\"mt-10\"><h2 id=\"tag-{0}\" class=\"text-xl font-semibold\">{0}</h2>\
             <p class=\"text-sm text-slate-600 dark:text-slate-400\">{1}</p>",
            escape(name),
            text(&tag["description"])
        );
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                let op = &item[method];
                let tagged = op["tags"]
                    .as_array()
                    .is_some_and(|tags| tags.iter().any(|t| t == name));
                if tagged {
                    operation(&mut out, method, path, op);
                }
            }
        }
        out.push_str("</section>");
    }
    out.push_str(
        "<section aria-labelledby=\"schemas\" class=\"mt-10\"><h2 id=\"schemas\" class=\"text-xl font-semibold\">Schemas</h2>",
    );
    for (name, schema) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let _ = write!(
            out,
            "<article id=\"schema-{0}\" class=\"mt-4 rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900\">\
             <h3 class=\"font-mono text-sm font-semibold\">{0}</h3>",
            escape(name)
        );
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let Some(properties) = schema["properties"].as_object() {
            out.push_str("<table class=\"mt-2 w-full text-left text-sm\"><thead><tr><th scope=\"col\">Field</th><th scope=\"col\">Type</th><th scope=\"col\">About</th></tr></thead><tbody>");
            for (field, property) in properties {
                let _ = write!(
                    out,
                    "<tr class=\"border-t border-slate-100 dark:border-slate-800\"><td class=\"py-1 font-mono\">{}{}</td><td class=\"py-1 font-mono\">{}</td><td class=\"py-1\">{}</td></tr>",
                    escape(field),
                    if required.contains(&field.as_str()) {
                        ""
                    } else {
                        "?"
                    },
                    type_of(property),
                    text(&property["description"])
                );
            }
            out.push_str("</tbody></table>");
        } else {
            let _ = write!(
                out,
                "<p class=\"font-mono text-sm\">{}</p>",
                type_of(schema)
            );
        }
        out.push_str("</article>");
    }
    out.push_str("</section></main></body></html>");
    out
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let id = text(&op["operationId"]);
    let _ = write!(
        out,
        "<article id=\"op-{id}\" class=\"mt-4 rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900\">\
         <h3 class=\"font-mono text-sm\"><span class=\"font-semibold uppercase\">{}</span> {}</h3>\
         <p class=\"mt-1 text-sm\">{}</p>",
        escape(method),
        escape(path),
        text(&op["description"]).replace('\n', "<br>")
    );
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str(
            "<h4 class=\"mt-3 text-sm font-semibold\">Parameters</h4><ul class=\"text-sm\">",
        );
        for p in params {
            let _ = write!(
                out,
                "<li><span class=\"font-mono\">{}</span> ({}{}, {}) {}</li>",
                text(&p["name"]),
                text(&p["in"]),
                if p["required"] == true {
                    ", required"
                } else {
                    ""
                },
                type_of(&p["schema"]),
                text(&p["description"])
            );
        }
        out.push_str("</ul>");
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        out.push_str("<h4 class=\"mt-3 text-sm font-semibold\">Body</h4><ul class=\"text-sm\">");
        for (media, body) in content {
            let _ = write!(
                out,
                "<li>{}: <span class=\"font-mono\">{}</span></li>",
                escape(media),
                type_of(&body["schema"])
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("<h4 class=\"mt-3 text-sm font-semibold\">Responses</h4><ul class=\"text-sm\">");
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let schema = response["content"]
            .as_object()
            .and_then(|c| c.values().next())
            .map(|c| type_of(&c["schema"]))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<li><span class=\"font-mono\">{}</span> {} <span class=\"font-mono\">{}</span></li>",
            escape(status),
            text(&response["description"]),
            schema
        );
    }
    out.push_str("</ul></article>");
}

/// A schema's type in a few words, linking named schemas.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return format!(
            "<a class=\"text-indigo-600 hover:underline\" href=\"#schema-{0}\">{0}</a>",
            escape(name)
        );
    }
    if let Some(options) = schema["oneOf"].as_array() {
        return options.iter().map(type_of).collect::<Vec<_>>().join(" | ");
    }
    match &schema["type"] {
        Value::String(t) if t == "array" => format!("[{}]", type_of(&schema["items"])),
        Value::String(t) => escape(t),
        Value::Array(types) => types
            .iter()
            .map(|t| escape(t.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".to_owned(),
    }
}

fn text(value: &Value) -> String {
    escape(value.as_str().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_lists_operations_by_tag_and_escapes_text() {
        let doc = serde_json::json!({
            "info": { "title": "T <API>", "description": "d & e" },
            "tags": [{ "name": "runs", "description": "Runs" }],
            "paths": { "/runs/{id}": { "get": {
                "operationId": "runs.show", "tags": ["runs"], "description": "One <run>",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "ok", "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/RunView" } } } } }
            } } },
            "components": { "schemas": { "RunView": {
                "type": "object", "required": ["id"],
                "properties": { "id": { "type": "string" }, "error": { "type": ["string", "null"] } }
            } } }
        });
        let page = render(&doc);
        assert!(page.contains("T &lt;API&gt;") && page.contains("d &amp; e"));
        assert!(page.contains("id=\"op-runs.show\""));
        assert!(page.contains("One &lt;run&gt;"));
        assert!(page.contains("href=\"#schema-RunView\""));
        assert!(page.contains("error?") && page.contains("string | null"));
        assert!(!page.contains("<run>"));
    }
}
