-- An agent's permissions, declared at deploy (docs/agent-permissions.md): the JSON object of
-- AgentPermissions.to_dict, or NULL when the deployment declared none (everything allowed).
ALTER TABLE agents ADD COLUMN permissions TEXT;
