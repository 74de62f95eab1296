//! `schema.graphql` at the repository root is the schema the code serves.

#[test]
fn checked_in_schema_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = api::graphql::sdl();
    assert!(
        checked_in == generated,
        "schema.graphql differs from the schema the code serves.\n\
         Regenerate it with:\n\n    cargo run -q -- schema > schema.graphql\n"
    );
}

#[test]
fn every_type_field_argument_and_value_has_a_description() {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let doc = async_graphql::parser::parse_schema(api::graphql::sdl()).expect("valid SDL");
    let mut missing = Vec::new();
    let mut need = |what: String, d: &Option<async_graphql::Positioned<String>>| {
        if d.as_ref().is_none_or(|d| d.node.trim().is_empty()) {
            missing.push(what);
        }
    };
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = &t.node;
        let name = t.name.node.to_string();
        need(name.clone(), &t.description);
        match &t.kind {
            TypeKind::Object(o) => {
                for f in &o.fields {
                    let f = &f.node;
                    need(format!("{name}.{}", f.name.node), &f.description);
                    for a in &f.arguments {
                        need(
                            format!("{name}.{}({})", f.name.node, a.node.name.node),
                            &a.node.description,
                        );
                    }
                }
            }
            TypeKind::InputObject(i) => {
                for f in &i.fields {
                    need(format!("{name}.{}", f.node.name.node), &f.node.description);
                }
            }
            TypeKind::Enum(e) => {
                for v in &e.values {
                    need(format!("{name}.{}", v.node.value.node), &v.node.description);
                }
            }
            _ => {}
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}
