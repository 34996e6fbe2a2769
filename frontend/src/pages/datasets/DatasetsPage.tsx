// Placeholder: the datasets screen (issue 16) replaces this.
export function DatasetsPage() {
  return (
    <div className="page">
      <h1>Datasets</h1>
    </div>
  );
}
