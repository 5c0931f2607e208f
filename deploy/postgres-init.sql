-- Runs once, when the compose PostgreSQL volume is first initialised (as the bootstrap superuser `housepoints`).
-- Two roles, so the app cannot switch its own walls off: housepoints_owner owns the schema and runs migrations and
-- provisioning; housepoints_app, the app's runtime role, owns nothing and is granted row privileges after each
-- migration. Neither is a superuser nor BYPASSRLS, so row-level security applies to both.
-- An older volume (made before this file) keeps its single role: recreate it, or run this file against it once.
CREATE ROLE housepoints_owner LOGIN PASSWORD 'housepoints_owner' CREATEDB NOSUPERUSER NOBYPASSRLS;
CREATE ROLE housepoints_app LOGIN PASSWORD 'housepoints_app' NOSUPERUSER NOBYPASSRLS NOCREATEDB;
-- The owner may end the app's sessions (DROP DATABASE ... WITH (FORCE) when a provisioning is undone).
GRANT housepoints_app TO housepoints_owner;
ALTER DATABASE housepoints_platform OWNER TO housepoints_owner;
