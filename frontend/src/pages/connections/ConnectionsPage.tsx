// Placeholder: the connections screen (issue 16) replaces this.
export function ConnectionsPage() {
  return (
    <div className="page">
      <h1>Connections</h1>
    </div>
  );
}
