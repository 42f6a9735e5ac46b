//! One snapshot per neutral fixture and target: the request rendered for OpenAI and for each
//! Anthropic MCP beta, strict first and lossy when strict fails, as `{body, headers, warnings}`
//! or the errors. Named `render@<file>.<target>.snap`.

#![allow(clippy::unwrap_used)]

use mcpwire_providers::neutral;
use mcpwire_providers::render::{RenderError, RenderOptions, Rendered};
use mcpwire_providers::translate::{self, VendorBody};
use mcpwire_schema::anthropic::BetaVersion;
use mcpwire_schema::event::Vendor;
use serde_json::{Value, json};

fn error_json(err: &RenderError) -> Value {
    match err {
        RenderError::CapabilityGap { field, message } => {
            json!({"kind": "capability_gap", "field": field, "message": message})
        }
        RenderError::Invalid { field, message } => {
            json!({"kind": "invalid", "field": field, "message": message})
        }
        other => json!({"kind": "other", "message": other.to_string()}),
    }
}

fn rendered_json(mode: &str, out: &Rendered<VendorBody>) -> Value {
    json!({
        "mode": mode,
        "headers": out.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>(),
        "warnings": out.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "body": out.body.to_json(),
    })
}

fn render(bytes: &[u8], to: Vendor, beta: BetaVersion) -> Value {
    let request = neutral::from_slice(bytes).unwrap();
    match translate::render_to(&request, to, beta, &RenderOptions::strict()) {
        Ok(out) => rendered_json("strict", &out),
        Err(strict) => {
            let lossy = translate::render_to(&request, to, beta, &RenderOptions::lossy());
            let mut value = match &lossy {
                Ok(out) => rendered_json("lossy", out),
                Err(err) => json!({"lossy_error": error_json(err)}),
            };
            value["strict_error"] = error_json(&strict);
            value
        }
    }
}

#[test]
fn neutral_fixtures_render() {
    insta::glob!("../../../fixtures", "neutral/*.json", |path| {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut targets = vec![(
            format!("{name}.openai"),
            Vendor::OpenAi,
            BetaVersion::LATEST,
        )];
        for beta in BetaVersion::ALL {
            targets.push((
                format!("{name}.anthropic-{}", beta.date()),
                Vendor::Anthropic,
                beta,
            ));
        }
        for (suffix, to, beta) in targets {
            let value = render(&bytes, to, beta);
            insta::with_settings!({ snapshot_suffix => suffix, prepend_module_to_snapshot => false }, {
                insta::assert_json_snapshot!("render", value);
            });
        }
    });
}
