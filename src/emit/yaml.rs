//! YAML output through serde, so values are quoted by a YAML serializer, never by hand.

pub(crate) fn to_yaml(value: &impl serde::Serialize) -> Result<String, serde_norway::Error> {
    serde_norway::to_string(value)
}
