//! The query cost model of SPEC 6, worked out from the document before it runs.
//!
//! The cost counts the objects a query can return: each object field costs 1 each time it
//! can appear; a connection multiplies its `edges` / `nodes` by `first` (50 when absent,
//! at most 250); any other list by [`TYPICAL_LIST`]; scalars, enums and `__typename` are
//! free. Introspection (`__schema`, `__type`) costs nothing and does not count toward the
//! depth limit (the standard introspection query is deeper than any data query needs), but
//! has a depth limit of its own, [`INTROSPECTION_DEPTH`]. The types come from the schema's
//! own SDL, read once.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use async_graphql::Variables;
use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
    TypeSystemDefinition,
};
use async_graphql::{Name, Value};

/// The size charged for a list that is not a connection (a school's appointments, a
/// person's qualifications, a report's history, ...): more than most have.
pub const TYPICAL_LIST: u64 = 10;
/// The page size charged for a connection asked without `first`.
pub const DEFAULT_FIRST: u64 = 50;
/// The largest page a connection returns.
pub const MAX_FIRST: u64 = 250;
/// How deep an introspection selection may go below `__schema` or `__type`.
pub const INTROSPECTION_DEPTH: usize = 24;

/// What a field returns.
#[derive(Debug, Clone)]
struct FieldType {
    /// The named type at the bottom of any list wrappers.
    name: String,
    /// Whether it is a list.
    list: bool,
}

/// The object types of the schema and their fields, and the input types and arguments
/// (for naming the input field a malformed value was sent in).
#[derive(Debug, Default)]
pub struct TypeIndex {
    objects: HashMap<String, HashMap<String, FieldType>>,
    inputs: HashMap<String, HashMap<String, FieldType>>,
    args: HashMap<(String, String), HashMap<String, FieldType>>,
}

fn field_type(ty: &async_graphql::parser::types::Type) -> FieldType {
    let mut ty = ty;
    let mut list = false;
    while let BaseType::List(inner) = &ty.base {
        list = true;
        ty = inner;
    }
    let BaseType::Named(name) = &ty.base else {
        unreachable!("the loop above strips every list")
    };
    FieldType {
        name: name.to_string(),
        list,
    }
}

impl TypeIndex {
    /// Reads the object types of an SDL document.
    pub fn from_sdl(sdl: &str) -> Self {
        let mut index = Self::default();
        let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
            return index;
        };
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let type_name = t.node.name.node.to_string();
            let fields = match t.node.kind {
                async_graphql::parser::types::TypeKind::Object(o) => o.fields,
                async_graphql::parser::types::TypeKind::Interface(i) => i.fields,
                async_graphql::parser::types::TypeKind::InputObject(i) => {
                    let map = i
                        .fields
                        .into_iter()
                        .map(|f| (f.node.name.node.to_string(), field_type(&f.node.ty.node)))
                        .collect();
                    index.inputs.insert(type_name, map);
                    continue;
                }
                _ => continue,
            };
            let mut map = HashMap::new();
            for f in fields {
                let name = f.node.name.node.to_string();
                let args = f
                    .node
                    .arguments
                    .iter()
                    .map(|a| (a.node.name.node.to_string(), field_type(&a.node.ty.node)))
                    .collect();
                index.args.insert((type_name.clone(), name.clone()), args);
                map.insert(name, field_type(&f.node.ty.node));
            }
            index.objects.insert(type_name, map);
        }
        index
    }

    fn field(&self, parent: &str, field: &str) -> Option<&FieldType> {
        self.objects.get(parent)?.get(field)
    }

    fn is_object(&self, name: &str) -> bool {
        self.objects.contains_key(name)
    }
}

/// The schema's types, read from its SDL once.
pub static TYPES: LazyLock<TypeIndex> = LazyLock::new(|| TypeIndex::from_sdl(&super::sdl()));

/// What the analysis found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Analysis {
    /// The objects the query can return.
    pub cost: u64,
    /// The deepest data selection (fields nested in fields), introspection left out.
    pub depth: usize,
    /// The deepest introspection selection below `__schema` / `__type`.
    pub introspection_depth: usize,
    /// Whether it asks for `__schema` or `__type`.
    pub introspects: bool,
}

struct Walk<'a> {
    types: &'a TypeIndex,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    out: Analysis,
    /// Fragments being expanded, so a (invalid) cycle ends.
    expanding: HashSet<Name>,
}

impl Walk<'_> {
    /// The cost of `set` on an object of type `parent`, at data depth `depth` (0 outside
    /// introspection) or introspection depth `intro` (Some inside it).
    fn set(&mut self, parent: &str, set: &SelectionSet, depth: usize, intro: Option<usize>) -> u64 {
        let mut cost: u64 = 0;
        for sel in &set.items {
            match &sel.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let name = f.name.node.as_str();
                    if name == "__typename" {
                        continue;
                    }
                    if let Some(d) = intro {
                        self.out.introspection_depth = self.out.introspection_depth.max(d + 1);
                        if d <= INTROSPECTION_DEPTH {
                            self.set("", &f.selection_set.node, depth, Some(d + 1));
                        }
                        continue;
                    }
                    if name == "__schema" || name == "__type" {
                        self.out.introspects = true;
                        self.out.introspection_depth = self.out.introspection_depth.max(1);
                        self.set("", &f.selection_set.node, depth, Some(1));
                        continue;
                    }
                    let depth = depth + 1;
                    self.out.depth = self.out.depth.max(depth);
                    let Some(ty) = self.types.field(parent, name).cloned() else {
                        // Not a field of this type: validation refuses it later.
                        continue;
                    };
                    if !self.types.is_object(&ty.name) {
                        continue;
                    }
                    let inner = if ty.name.ends_with("Connection") {
                        self.connection(&ty.name, f, depth)
                    } else {
                        self.set(&ty.name, &f.selection_set.node, depth, None)
                    };
                    let each = inner.saturating_add(1);
                    let times = if ty.list && !parent.ends_with("Connection") {
                        TYPICAL_LIST
                    } else {
                        1
                    };
                    cost = cost.saturating_add(each.saturating_mul(times));
                }
                Selection::InlineFragment(frag) => {
                    let on = frag
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent.to_string(), |t| t.node.on.node.to_string());
                    let c = self.set(&on, &frag.node.selection_set.node, depth, intro);
                    cost = cost.saturating_add(c);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    let Some(def) = self.doc.fragments.get(name) else {
                        continue;
                    };
                    if !self.expanding.insert(name.clone()) {
                        continue;
                    }
                    let on = def.node.type_condition.node.on.node.to_string();
                    let c = self.set(&on, &def.node.selection_set.node, depth, intro);
                    self.expanding.remove(name);
                    cost = cost.saturating_add(c);
                }
            }
        }
        cost
    }

    /// A connection's selection: its `edges` and `nodes` once per row of the page, the
    /// rest (`pageInfo`, counts) once.
    fn connection(
        &mut self,
        ty: &str,
        f: &async_graphql::parser::types::Field,
        depth: usize,
    ) -> u64 {
        let first = self.first(f);
        let mut cost: u64 = 0;
        for sel in &f.selection_set.node.items {
            let one = SelectionSet {
                items: vec![sel.clone()],
            };
            let per_row = match &sel.node {
                Selection::Field(inner) => {
                    matches!(inner.node.name.node.as_str(), "edges" | "nodes")
                }
                _ => false,
            };
            let c = self.set(ty, &one, depth, None);
            cost = cost.saturating_add(if per_row { c.saturating_mul(first) } else { c });
        }
        cost
    }

    /// The page size a connection field asks for.
    fn first(&self, f: &async_graphql::parser::types::Field) -> u64 {
        let Some(v) = f.get_argument("first") else {
            return DEFAULT_FIRST;
        };
        let value = v.node.clone().into_const_with(|name| {
            Ok::<_, ()>(self.variables.get(&name).cloned().unwrap_or(Value::Null))
        });
        let n = match value {
            Ok(Value::Number(n)) => n.as_i64(),
            Ok(Value::Null) => return DEFAULT_FIRST,
            _ => None,
        };
        n.map_or(DEFAULT_FIRST, |n| n.clamp(0, MAX_FIRST as i64) as u64)
    }
}

/// The path of the first value in the arguments of the top-level field answering as
/// `response_key` whose input type is the scalar `scalar` and that `invalid` refuses, as
/// the client spelled it (`input.startedOn`, `asOf`): async-graphql's own coercion error
/// names only the type.
pub fn locate_invalid(
    types: &TypeIndex,
    op: &OperationDefinition,
    variables: &Variables,
    response_key: &str,
    scalar: &str,
    invalid: &dyn Fn(&Value) -> bool,
) -> Option<String> {
    use async_graphql::parser::types::OperationType;
    let root = match op.ty {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
    };
    let field = op
        .selection_set
        .node
        .items
        .iter()
        .find_map(|s| match &s.node {
            Selection::Field(f) => {
                let key = f.node.alias.as_ref().unwrap_or(&f.node.name).node.as_str();
                (key == response_key).then_some(&f.node)
            }
            _ => None,
        })?;
    let args = types
        .args
        .get(&(root.to_string(), field.name.node.to_string()))?;
    for (name, value) in &field.arguments {
        let Some(ty) = args.get(name.node.as_str()) else {
            continue;
        };
        let value = value
            .node
            .clone()
            .into_const_with(|n| Ok::<_, ()>(variables.get(&n).cloned().unwrap_or(Value::Null)));
        let Ok(value) = value else { continue };
        if let Some(path) = find(types, &value, ty, scalar, invalid, name.node.to_string()) {
            return Some(path);
        }
    }
    None
}

fn find(
    types: &TypeIndex,
    value: &Value,
    ty: &FieldType,
    scalar: &str,
    invalid: &dyn Fn(&Value) -> bool,
    path: String,
) -> Option<String> {
    match value {
        Value::List(items) if ty.list => items.iter().find_map(|v| {
            let one = FieldType {
                name: ty.name.clone(),
                list: false,
            };
            find(types, v, &one, scalar, invalid, path.clone())
        }),
        Value::Object(fields) => {
            let input = types.inputs.get(&ty.name)?;
            fields.iter().find_map(|(k, v)| {
                let fty = input.get(k.as_str())?;
                find(types, v, fty, scalar, invalid, format!("{path}.{k}"))
            })
        }
        Value::Null => None,
        v if ty.name == scalar && invalid(v) => Some(path),
        _ => None,
    }
}

/// Analyses `op` of `doc` with `variables` against the schema's types.
pub fn analyse(
    types: &TypeIndex,
    doc: &ExecutableDocument,
    op: &OperationDefinition,
    variables: &Variables,
) -> Analysis {
    use async_graphql::parser::types::OperationType;
    let root = match op.ty {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
    };
    let mut w = Walk {
        types,
        doc,
        variables,
        out: Analysis::default(),
        expanding: HashSet::new(),
    };
    let cost = w.set(root, &op.selection_set.node, 0, None);
    Analysis { cost, ..w.out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(query: &str, vars: serde_json::Value) -> Analysis {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let op = match &doc.operations {
            async_graphql::parser::types::DocumentOperations::Single(op) => op.node.clone(),
            async_graphql::parser::types::DocumentOperations::Multiple(ops) => {
                ops.values().next().unwrap().node.clone()
            }
        };
        analyse(&TYPES, &doc, &op, &Variables::from_json(vars))
    }

    #[test]
    fn scalars_are_free_and_objects_cost_one() {
        assert_eq!(
            cost("{ viewer { sub scopes } }", serde_json::json!({})).cost,
            1
        );
        assert_eq!(cost("{ __typename }", serde_json::json!({})).cost, 0);
    }

    #[test]
    fn a_connection_multiplies_its_rows_by_first() {
        // 1 connection + 250 x (edge + node + localAuthority) + pageInfo.
        let a = cost(
            "{ schools(first: 250) { totalCount edges { node { urn localAuthority { name } } } \
             pageInfo { hasNextPage } } }",
            serde_json::json!({}),
        );
        assert_eq!(a.cost, 1 + 250 * 3 + 1);
        let b = cost(
            "query($n: Int) { schools(first: $n) { edges { node { urn } } } }",
            serde_json::json!({ "n": 7 }),
        );
        assert_eq!(b.cost, 1 + 7 * 2);
        let default = cost(
            "{ schools { edges { node { urn } } } }",
            serde_json::json!({}),
        );
        assert_eq!(default.cost, 1 + DEFAULT_FIRST * 2);
    }

    #[test]
    fn other_lists_count_their_typical_size() {
        let a = cost(
            "{ schools(first: 1) { edges { node { sencoAppointments { person { fullName } } } } } }",
            serde_json::json!({}),
        );
        // connection + edge + node + 10 x (appointment + person)
        assert_eq!(a.cost, 1 + 1 + 1 + TYPICAL_LIST * 2);
    }

    #[test]
    fn fragments_count_where_they_are_spread() {
        let a = cost(
            "query { schools(first: 2) { edges { node { ...S } } } } \
             fragment S on School { localAuthority { name } }",
            serde_json::json!({}),
        );
        assert_eq!(a.cost, 1 + 2 * 3);
    }

    #[test]
    fn introspection_is_free_and_kept_out_of_the_data_depth() {
        let a = cost(
            "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }",
            serde_json::json!({}),
        );
        assert_eq!(a.cost, 0);
        assert_eq!(a.depth, 0);
        assert!(a.introspects);
        assert_eq!(a.introspection_depth, 8);
    }
}
