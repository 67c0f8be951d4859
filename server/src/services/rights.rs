//! Rights templates by name, as sending, mail flow and the self-test resolve them: a built-in
//! (`Encrypt`, `Do Not Forward`) first, then the tenant's own.

use crate::domain::rights::RightsTemplate;
use crate::store::{Store, StoreResult};

/// A built-in or the tenant's own template by name.
pub async fn resolve_rights(
    store: &dyn Store,
    tenant_id: &str,
    name: &str,
) -> StoreResult<RightsTemplate> {
    match RightsTemplate::built_in(name) {
        Some(t) => Ok(t),
        None => store.rights_template(tenant_id, name).await,
    }
}
