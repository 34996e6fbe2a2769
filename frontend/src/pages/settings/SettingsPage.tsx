// Placeholder: the workspace settings screen (issue 16) replaces this.
export function SettingsPage({ tab }: { tab: string }) {
  return (
    <div className="page">
      <h1>Settings</h1>
      <p>{tab}</p>
    </div>
  );
}
